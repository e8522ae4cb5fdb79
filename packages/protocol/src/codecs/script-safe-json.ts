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

/** `JSON.stringify(value)` with every script-breaking character escaped. */
export function toScriptSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Value cannot be serialized as JSON');
  return json.replace(UNSAFE, (char) => ESCAPES[char]!);
}
