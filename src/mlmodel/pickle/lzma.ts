/**
 * An LZMA / LZMA2 decoder (the algorithm of the LZMA SDK's LzmaSpec.cpp, reference decoder by Igor
 * Pavlov, public domain), for reading the 7z archives pickles are sometimes shipped in. Node's zlib has
 * no LZMA, and no dependency of the project has one.
 *
 * Bounded by construction: the output is a buffer of the declared size, allocated by the caller after
 * checking it against a limit; every input read is bounds-checked; a match may not reach before the
 * start of the output nor past its end. Any violation throws an LzmaError.
 */

export class LzmaError extends Error {}

const PROB_INIT = 1024;

class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  pos: number;
  private readonly buf: Uint8Array;
  private readonly end: number;
  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.end = end;
    this.pos = start;
    if (this.next() !== 0) throw new LzmaError("bad range coder start byte");
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
    if (this.code === this.range) throw new LzmaError("bad range coder state");
  }

  private next(): number {
    if (this.pos >= this.end) throw new LzmaError("compressed data ends early");
    return this.buf[this.pos++] as number;
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i] as number;
    const bound = ((this.range >>> 11) * p) >>> 0;
    let bit: number;
    if (this.code < bound) {
      probs[i] = p + ((2048 - p) >>> 5);
      this.range = bound;
      bit = 0;
    } else {
      probs[i] = p - (p >>> 5);
      this.code = (this.code - bound) >>> 0;
      this.range = (this.range - bound) >>> 0;
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  direct(n: number): number {
    let res = 0;
    for (let i = 0; i < n; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      this.normalize();
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    for (let i = 0; i < numBits; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << numBits);
  }

  reverse(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < numBits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  readonly choice = new Uint16Array(2);
  readonly low = new Uint16Array(16 << 3);
  readonly mid = new Uint16Array(16 << 3);
  readonly high = new Uint16Array(256);
  reset(): void {
    this.choice.fill(PROB_INIT);
    this.low.fill(PROB_INIT);
    this.mid.fill(PROB_INIT);
    this.high.fill(PROB_INIT);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

/** lc/lp/pb from LZMA's properties byte. */
export function lzmaPropsByte(d: number): LzmaProps {
  if (d >= 9 * 5 * 5) throw new LzmaError("bad LZMA properties byte");
  return { lc: d % 9, lp: Math.floor(d / 9) % 5, pb: Math.floor(d / 45) };
}

/** An LZMA decoder writing into one output buffer (which is also its dictionary). */
export class LzmaDecoder {
  private props: LzmaProps = { lc: 0, lp: 0, pb: 0 };
  private literal = new Uint16Array(0x300);
  private readonly isMatch = new Uint16Array(12 << 4);
  private readonly isRep = new Uint16Array(12);
  private readonly isRepG0 = new Uint16Array(12);
  private readonly isRepG1 = new Uint16Array(12);
  private readonly isRepG2 = new Uint16Array(12);
  private readonly isRep0Long = new Uint16Array(12 << 4);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly posDecoders = new Uint16Array(1 + 114);
  private readonly align = new Uint16Array(16);
  private readonly len = new LenDecoder();
  private readonly repLen = new LenDecoder();
  private state = 0;
  private reps = [0, 0, 0, 0];
  /** Bytes written so far. */
  pos = 0;

  readonly out: Uint8Array;

  constructor(out: Uint8Array) {
    this.out = out;
  }

  setProps(p: LzmaProps): void {
    if (p.lc > 8 || p.lp > 4 || p.pb > 4) throw new LzmaError("bad LZMA properties");
    this.props = p;
    this.literal = new Uint16Array(0x300 << (p.lc + p.lp));
  }

  resetState(): void {
    this.literal.fill(PROB_INIT);
    for (const a of [this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posDecoders, this.align]) a.fill(PROB_INIT);
    this.len.reset();
    this.repLen.reset();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  /**
   * Decodes from `input[start, end)` until `size` more bytes are out (or an end marker when
   * `allowEndMarker`). Returns the input position reached.
   */
  decode(input: Uint8Array, start: number, end: number, size: number, allowEndMarker: boolean): number {
    const rc = new RangeDecoder(input, start, end);
    const out = this.out;
    const limit = this.pos + size;
    if (limit > out.length) throw new LzmaError("output larger than declared");
    const { lc, lp, pb } = this.props;
    const pbMask = (1 << pb) - 1;
    const lpMask = (1 << lp) - 1;
    let [rep0, rep1, rep2, rep3] = this.reps as [number, number, number, number];
    let state = this.state;
    while (this.pos < limit) {
      const posState = this.pos & pbMask;
      if (rc.bit(this.isMatch, (state << 4) + posState) === 0) {
        const prev = this.pos > 0 ? (out[this.pos - 1] as number) : 0;
        const base = 0x300 * (((this.pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (rep0 >= this.pos) throw new LzmaError("match distance before the start");
          let matchByte = out[this.pos - rep0 - 1] as number;
          while (sym < 0x100) {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        out[this.pos++] = sym - 0x100;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, state) !== 0) {
        if (this.pos === 0) throw new LzmaError("repeat match at the start");
        if (rc.bit(this.isRepG0, state) === 0) {
          if (rc.bit(this.isRep0Long, (state << 4) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            if (rep0 >= this.pos) throw new LzmaError("match distance before the start");
            out[this.pos] = out[this.pos - rep0 - 1] as number;
            this.pos++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, state) === 0) dist = rep1;
          else {
            if (rc.bit(this.isRepG2, state) === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = this.repLen.decode(rc, posState);
        state = state < 7 ? 8 : 11;
      } else {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = this.len.decode(rc, posState);
        state = state < 7 ? 7 : 10;
        // distance
        const lenState = len < 3 ? len : 3;
        const slot = rc.tree(this.posSlot, lenState << 6, 6);
        if (slot < 4) rep0 = slot;
        else {
          const nd = (slot >>> 1) - 1;
          let dist = ((2 | (slot & 1)) << nd) >>> 0;
          if (slot < 14) dist = (dist + rc.reverse(this.posDecoders, dist - slot, nd)) >>> 0;
          else {
            dist = (dist + ((rc.direct(nd - 4) << 4) >>> 0)) >>> 0;
            dist = (dist + rc.reverse(this.align, 0, 4)) >>> 0;
          }
          rep0 = dist;
        }
        if (rep0 === 0xffffffff) {
          if (!allowEndMarker) throw new LzmaError("unexpected end marker");
          break;
        }
        if (rep0 >= this.pos) throw new LzmaError("match distance before the start");
      }
      len += 2;
      if (len > limit - this.pos) throw new LzmaError("match runs past the declared size");
      for (let i = 0; i < len; i++) {
        out[this.pos] = out[this.pos - rep0 - 1] as number;
        this.pos++;
      }
    }
    this.state = state;
    this.reps = [rep0, rep1, rep2, rep3];
    return rc.pos;
  }
}

/** Decodes an LZMA stream (7z coder 030101: 5 property bytes, no header) into `size` bytes. */
export function decodeLzma(props: Uint8Array, input: Uint8Array, size: number): Buffer {
  if (props.length < 5) throw new LzmaError("LZMA properties too short");
  const out = Buffer.alloc(size);
  const dec = new LzmaDecoder(out);
  dec.setProps(lzmaPropsByte(props[0] as number));
  dec.resetState();
  dec.decode(input, 0, input.length, size, true);
  if (dec.pos !== size) throw new LzmaError(`LZMA data decodes to ${dec.pos} bytes, not ${size}`);
  return out;
}

/** Decodes an LZMA2 stream (7z coder 21) into `size` bytes. */
export function decodeLzma2(input: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  const dec = new LzmaDecoder(out);
  let p = 0;
  let haveProps = false;
  const byte = (): number => {
    if (p >= input.length) throw new LzmaError("LZMA2 data ends early");
    return input[p++] as number;
  };
  for (;;) {
    const control = byte();
    if (control === 0) break;
    if (control === 1 || control === 2) {
      const n = ((byte() << 8) | byte()) + 1;
      if (p + n > input.length) throw new LzmaError("LZMA2 data ends early");
      if (dec.pos + n > size) throw new LzmaError("LZMA2 output larger than declared");
      out.set(input.subarray(p, p + n), dec.pos);
      dec.pos += n;
      p += n;
      continue;
    }
    if (control < 0x80) throw new LzmaError(`bad LZMA2 control byte 0x${control.toString(16)}`);
    const unpacked = (((control & 0x1f) << 16) | (byte() << 8) | byte()) + 1;
    const packed = ((byte() << 8) | byte()) + 1;
    const mode = (control >>> 5) & 3;
    if (mode >= 2) {
      dec.setProps(lzmaPropsByte(byte()));
      haveProps = true;
    }
    if (!haveProps) throw new LzmaError("LZMA2 chunk without properties");
    if (mode >= 1) dec.resetState();
    if (p + packed > input.length) throw new LzmaError("LZMA2 data ends early");
    if (dec.pos + unpacked > size) throw new LzmaError("LZMA2 output larger than declared");
    dec.decode(input, p, p + packed, unpacked, false);
    p += packed;
  }
  if (dec.pos !== size) throw new LzmaError(`LZMA2 data decodes to ${dec.pos} bytes, not ${size}`);
  return out;
}
