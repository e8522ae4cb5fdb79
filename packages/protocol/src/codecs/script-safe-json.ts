/**
 * JSON that is safe to embed in an HTML `<script>` element or a JSONP response.
 *
 * `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026` so no payload can close the script
 * (`</script>`) or open an HTML comment (`<!--`); U+2028 and U+2029 become escapes because
 * older JavaScript engines treat them as line terminators inside string literals. These
 * characters only occur inside JSON strings, where the escapes decode to the same text.
 */
const UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * In a JavaScript object literal, `"__proto__": value` sets the object's prototype instead of
 * making an own property (JSON.parse makes the property). Any JSON text holding this sequence
 * may have such a key; inside a JSON string the quote before the colon would be escaped, so a
 * match in a string value is only a harmless false positive.
 */
const PROTO_KEY = '"__proto__":';
const PARSE_OPEN = 'JSON.parse(';

/** `JSON.stringify(value)` with every script-breaking character escaped. */
export function toScriptSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Value cannot be serialized as JSON');
  return json.replace(UNSAFE, (char) => ESCAPES[char]!);
}

/**
 * A script expression that evaluates to `value` exactly as `JSON.parse` would build it. Usually
 * the JSON literal itself; a value with a `__proto__` key is sent as `JSON.parse("…")`, because
 * a literal would turn that key into the object's prototype and the key would never arrive.
 * (The escapes never touch that key, and inside the string they decode to the same JSON.)
 * Read it back with {@link parseScriptExpression}.
 * @example toScriptExpression({ a: 1 }) // '{"a":1}'
 */
export function toScriptExpression(value: unknown): string {
  const json = toScriptSafeJson(value);
  return json.includes(PROTO_KEY) ? `${PARSE_OPEN}${toScriptSafeJson(json)})` : json;
}

/** Reads what {@link toScriptExpression} wrote without executing it. Throws on invalid JSON. */
export function parseScriptExpression(expression: string): unknown {
  const wrapped = expression.startsWith(PARSE_OPEN);
  const value: unknown = JSON.parse(wrapped ? expression.slice(PARSE_OPEN.length, -1) : expression);
  return wrapped ? JSON.parse(value as string) : value;
}
