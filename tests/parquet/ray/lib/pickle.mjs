// Hand-written Python pickle encoder/decoder for the few objects Ray stores as Arrow extension
// metadata. The encoder emits what CPython's C pickler (pickle.dumps / cloudpickle.dumps) emits
// for the same objects: PROTO, one FRAME when the payload is >= 4 bytes (protocol >= 4),
// MEMOIZE after every str, tuple, global and reduce result, the smallest int opcode.
//
// Values: a JS integer (Number), { str }, { tuple: [values] }, { global: [module, name] },
// { reduce: [callableValue, argsTupleValue] }.

const OP = { PROTO: 0x80, FRAME: 0x95, STOP: 0x2e, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c, BINUNICODE: 0x58, MEMOIZE: 0x94, STACK_GLOBAL: 0x93, REDUCE: 0x52,
  EMPTY_TUPLE: 0x29, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, MARK: 0x28, TUPLE: 0x74, NONE: 0x4e,
  NEWTRUE: 0x88, NEWFALSE: 0x89, BINGET: 0x68, LONG_BINGET: 0x6a, BINPUT: 0x71, LONG_BINPUT: 0x72,
  GLOBAL: 0x63, BINFLOAT: 0x47, SHORT_BINBYTES: 0x43, BINBYTES: 0x42, EMPTY_LIST: 0x5d, APPENDS: 0x65,
  APPEND: 0x61 };
const FRAME_SIZE_MIN = 4;

export const py = {
  str: (s) => ({ str: s }),
  tuple: (...items) => ({ tuple: items }),
  global: (module, name) => ({ global: [module, name] }),
  reduce: (fn, args) => ({ reduce: [fn, args] }),
};

function emit(out, v) {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('pickle: only integers are supported');
    if (v >= 0 && v <= 0xff) out.push(OP.BININT1, v);
    else if (v >= 0 && v <= 0xffff) out.push(OP.BININT2, v & 0xff, v >> 8);
    else if (v >= -0x80000000 && v <= 0x7fffffff) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v, 0);
      out.push(OP.BININT, ...b);
    } else throw new Error(`pickle: integer ${v} needs LONG1, not implemented`);
    return;
  }
  if (v.str !== undefined) {
    const b = Buffer.from(v.str, 'utf8');
    if (b.length < 256) out.push(OP.SHORT_BINUNICODE, b.length, ...b);
    else {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(b.length, 0);
      out.push(OP.BINUNICODE, ...n, ...b);
    }
    out.push(OP.MEMOIZE);
    return;
  }
  if (v.tuple !== undefined) {
    const n = v.tuple.length;
    if (n === 0) { out.push(OP.EMPTY_TUPLE); return; } // the empty tuple is a singleton: not memoized
    if (n > 3) out.push(OP.MARK);
    for (const item of v.tuple) emit(out, item);
    out.push(n <= 3 ? [0, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][n] : OP.TUPLE, OP.MEMOIZE);
    return;
  }
  if (v.global !== undefined) {
    emit(out, py.str(v.global[0]));
    emit(out, py.str(v.global[1]));
    out.push(OP.STACK_GLOBAL, OP.MEMOIZE);
    return;
  }
  if (v.reduce !== undefined) {
    emit(out, v.reduce[0]);
    emit(out, v.reduce[1]);
    out.push(OP.REDUCE, OP.MEMOIZE);
    return;
  }
  throw new Error(`pickle: cannot encode ${JSON.stringify(v)}`);
}

// pickle.dumps(value, protocol) for protocol 4 or 5 (a single frame; payloads < 64 KiB).
export function dumps(value, protocol) {
  if (protocol !== 4 && protocol !== 5) throw new Error('pickle: only protocols 4 and 5 are implemented');
  const payload = [];
  emit(payload, value);
  payload.push(OP.STOP);
  if (payload.length > 65536) throw new Error('pickle: payload needs more than one frame');
  const head = [OP.PROTO, protocol];
  if (payload.length >= FRAME_SIZE_MIN) {
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(payload.length), 0);
    head.push(OP.FRAME, ...n);
  }
  return Buffer.from([...head, ...payload]);
}

// A small unpickler for the same subset plus a few common opcodes. Returns a JSON-friendly
// value: numbers, strings, arrays for tuples/lists, { global: "module.name" },
// { call: "module.name", args: [...] } for REDUCE. Throws on anything else.
export function loads(bytes) {
  const b = Buffer.from(bytes);
  let pos = 0;
  const stack = [];
  const marks = [];
  const memo = new Map();
  let protocol = 0;
  const need = (n) => { if (pos + n > b.length) throw new Error('pickle: truncated'); };
  for (;;) {
    need(1);
    const op = b[pos++];
    switch (op) {
      case OP.PROTO: need(1); protocol = b[pos++]; break;
      case OP.FRAME: need(8); pos += 8; break;
      case OP.STOP: {
        if (stack.length !== 1) throw new Error(`pickle: ${stack.length} values left at STOP`);
        if (pos !== b.length) throw new Error(`pickle: ${b.length - pos} bytes after STOP`);
        return { protocol, value: stack[0] };
      }
      case OP.BININT1: need(1); stack.push(b[pos]); pos += 1; break;
      case OP.BININT2: need(2); stack.push(b.readUInt16LE(pos)); pos += 2; break;
      case OP.BININT: need(4); stack.push(b.readInt32LE(pos)); pos += 4; break;
      case OP.LONG1: {
        need(1);
        const n = b[pos++];
        need(n);
        let x = 0n;
        for (let k = n - 1; k >= 0; k--) x = (x << 8n) | BigInt(b[pos + k]);
        if (n > 0 && b[pos + n - 1] & 0x80) x -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(Number.isSafeInteger(Number(x)) ? Number(x) : x.toString());
        break;
      }
      case OP.NONE: stack.push(null); break;
      case OP.NEWTRUE: stack.push(true); break;
      case OP.NEWFALSE: stack.push(false); break;
      case OP.BINFLOAT: need(8); stack.push(b.readDoubleBE(pos)); pos += 8; break;
      case OP.SHORT_BINUNICODE: { need(1); const n = b[pos++]; need(n); stack.push(b.toString('utf8', pos, pos + n)); pos += n; break; }
      case OP.BINUNICODE: { need(4); const n = b.readUInt32LE(pos); pos += 4; need(n); stack.push(b.toString('utf8', pos, pos + n)); pos += n; break; }
      case OP.SHORT_BINBYTES: { need(1); const n = b[pos++]; need(n); stack.push({ bytes_hex: b.toString('hex', pos, pos + n) }); pos += n; break; }
      case OP.MEMOIZE: memo.set(memo.size, stack[stack.length - 1]); break;
      case OP.BINPUT: need(1); memo.set(b[pos++], stack[stack.length - 1]); break;
      case OP.LONG_BINPUT: need(4); memo.set(b.readUInt32LE(pos), stack[stack.length - 1]); pos += 4; break;
      case OP.BINGET: need(1); stack.push(memo.get(b[pos++])); break;
      case OP.LONG_BINGET: need(4); stack.push(memo.get(b.readUInt32LE(pos))); pos += 4; break;
      case OP.EMPTY_TUPLE: stack.push([]); break;
      case OP.TUPLE1: stack.push([stack.pop()]); break;
      case OP.TUPLE2: { const y = stack.pop(); const x = stack.pop(); stack.push([x, y]); break; }
      case OP.TUPLE3: { const z = stack.pop(); const y = stack.pop(); const x = stack.pop(); stack.push([x, y, z]); break; }
      case OP.MARK: marks.push(stack.length); break;
      case OP.TUPLE: { const m = marks.pop(); stack.push(stack.splice(m)); break; }
      case OP.EMPTY_LIST: stack.push([]); break;
      case OP.APPEND: { const x = stack.pop(); stack[stack.length - 1].push(x); break; }
      case OP.APPENDS: { const m = marks.pop(); const items = stack.splice(m); stack[stack.length - 1].push(...items); break; }
      case OP.STACK_GLOBAL: { const name = stack.pop(); const module = stack.pop(); stack.push({ global: `${module}.${name}` }); break; }
      case OP.GLOBAL: {
        const nl1 = b.indexOf(10, pos);
        const nl2 = b.indexOf(10, nl1 + 1);
        if (nl1 < 0 || nl2 < 0) throw new Error('pickle: truncated GLOBAL');
        stack.push({ global: `${b.toString('utf8', pos, nl1)}.${b.toString('utf8', nl1 + 1, nl2)}` });
        pos = nl2 + 1;
        break;
      }
      case OP.REDUCE: { const args = stack.pop(); const fn = stack.pop(); stack.push({ call: fn.global ?? fn, args }); break; }
      default: throw new Error(`pickle: unsupported opcode 0x${op.toString(16)} at ${pos - 1}`);
    }
  }
}
