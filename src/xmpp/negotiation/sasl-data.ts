/** RFC 6120 §6.4.2: base64 data, '=' for an empty response; undefined when absent, null when not base64. */
export function decodeSaslData(text: string): Buffer | undefined | null {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) return null;
  return Buffer.from(trimmed, 'base64');
}
