/** The IEEE CRC32 lookup table (the polynomial zlib and PNG use). */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32 (IEEE) of an ASCII string's bytes, between `start` and `end`. Equal to `zlib.crc32` for ASCII
 * input; computed in place because token checks run on every authentication and avoid allocating.
 */
export function crc32Ascii(text: string, start = 0, end = text.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
