// msgpack.js — the little MessagePack the admin's scene editor needs: scene documents are
// msgpack (docs/render.md) and the JSON API carries them as base64. Maps, arrays, strings,
// integers, floats, booleans and nil; binary and extension types are refused.
export function decode(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let at = 0;
  const str = (n) => { const s = text.decode(bytes.subarray(at, at + n)); at += n; return s; };
  const arr = (n) => { const a = []; for (let i = 0; i < n; i++) a.push(value()); return a; };
  const map = (n) => { const m = {}; for (let i = 0; i < n; i++) { const k = value(); m[k] = value(); } return m; };
  function value() {
    const b = bytes[at++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    let v;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      // A float32 shown as the decimal it was written as (0.03, not 0.029999999329447746).
      case 0xca: v = view.getFloat32(at); at += 4; return Number(v.toPrecision(7));
      case 0xcb: v = view.getFloat64(at); at += 8; return v;
      case 0xcc: return bytes[at++];
      case 0xcd: v = view.getUint16(at); at += 2; return v;
      case 0xce: v = view.getUint32(at); at += 4; return v;
      case 0xcf: v = Number(view.getBigUint64(at)); at += 8; return v;
      case 0xd0: v = view.getInt8(at); at += 1; return v;
      case 0xd1: v = view.getInt16(at); at += 2; return v;
      case 0xd2: v = view.getInt32(at); at += 4; return v;
      case 0xd3: v = Number(view.getBigInt64(at)); at += 8; return v;
      case 0xd9: return str(bytes[at++]);
      case 0xda: v = view.getUint16(at); at += 2; return str(v);
      case 0xdb: v = view.getUint32(at); at += 4; return str(v);
      case 0xdc: v = view.getUint16(at); at += 2; return arr(v);
      case 0xdd: v = view.getUint32(at); at += 4; return arr(v);
      case 0xde: v = view.getUint16(at); at += 2; return map(v);
      case 0xdf: v = view.getUint32(at); at += 4; return map(v);
      default: throw new Error(`msgpack: type 0x${b.toString(16)} is not used in scenes`);
    }
  }
  return value();
}

export function encode(v) {
  const out = [];
  const u8 = (...b) => out.push(...b);
  const be = (n, bytes) => { for (let i = bytes - 1; i >= 0; i--) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn)); };
  function value(x) {
    if (x === null || x === undefined) u8(0xc0);
    else if (x === true) u8(0xc3);
    else if (x === false) u8(0xc2);
    else if (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) < 2 ** 53) {
      if (x >= 0 && x < 128) u8(x);
      else if (x < 0 && x >= -32) u8(x + 256);
      else if (x >= 0) { u8(0xcf); be(x, 8); } else { u8(0xd3); be(BigInt.asUintN(64, BigInt(x)), 8); }
    } else if (typeof x === 'number') {
      const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x); u8(0xcb, ...new Uint8Array(b.buffer));
    } else if (typeof x === 'string') {
      const s = new TextEncoder().encode(x);
      if (s.length < 32) u8(0xa0 | s.length); else if (s.length < 256) u8(0xd9, s.length); else { u8(0xda); be(s.length, 2); }
      out.push(...s);
    } else if (Array.isArray(x)) {
      if (x.length < 16) u8(0x90 | x.length); else { u8(0xdc); be(x.length, 2); }
      x.forEach(value);
    } else if (typeof x === 'object') {
      const keys = Object.keys(x);
      if (keys.length < 16) u8(0x80 | keys.length); else { u8(0xde); be(keys.length, 2); }
      for (const k of keys) { value(k); value(x[k]); }
    } else throw new Error(`cannot encode ${typeof x}`);
  }
  value(v);
  return new Uint8Array(out);
}

export const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
export const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
