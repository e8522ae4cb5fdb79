/** Validation of the JavaScript callback names used by JSONP and the forever-iframe. */

const CALLBACK_NAME = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

/** Longest callback name accepted. */
export const MAX_CALLBACK_NAME_LENGTH = 128;

/**
 * True when `name` is a dotted JavaScript identifier path (`cb`, `jQuery123.cb`) and nothing more,
 * so it can be written into a script without any chance of injecting code.
 */
export function isValidCallbackName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_CALLBACK_NAME_LENGTH && CALLBACK_NAME.test(name);
}
