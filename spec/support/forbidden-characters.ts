// XML 1.0 §2.2: every class of character outside Char, with a representative of each range.
export const FORBIDDEN_CHARACTERS: ReadonlyArray<readonly [string, number]> = [
  ['U+0000', 0x0],
  ['U+0001', 0x1],
  ['U+0008', 0x8],
  ['U+000B', 0xb],
  ['U+000C', 0xc],
  ['U+000E', 0xe],
  ['U+001F', 0x1f],
  ['U+FFFE', 0xfffe],
  ['U+FFFF', 0xffff],
  ['a lone high surrogate U+D800', 0xd800],
  ['a lone high surrogate U+DBFF', 0xdbff],
  ['a lone low surrogate U+DC00', 0xdc00],
  ['a lone low surrogate U+DFFF', 0xdfff],
];
