/** Row limits every backend applies the same way (so answers do not depend on the backend). */

/** Rows a single no-port session query returns at most (the matcher treats it as "too many"). */
export const SESSION_ROW_LIMIT = 100_000;
