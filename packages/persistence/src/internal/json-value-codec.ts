import { LcError } from '@lc/core';
import type { JsonValue } from '@lc/core';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

// Tags of the binary JSON form. Cursors are small ({offset, line} or a
// container's timestamp), so a tagged tree is cheaper than JSON.stringify.
const TAG_ABSENT = 0;
const TAG_NULL = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_F64 = 4;
const TAG_STRING = 5;
const TAG_ARRAY = 6;
const TAG_OBJECT = 7;
const TAG_UINT = 8;

/** Write `value` (or the absent marker for `undefined`). */
export function writeJsonValue(
  w: ByteWriter,
  value: JsonValue | undefined,
): void {
  if (value === undefined) return w.u8(TAG_ABSENT);
  if (value === null) return w.u8(TAG_NULL);
  switch (typeof value) {
    case 'boolean':
      return w.u8(value ? TAG_TRUE : TAG_FALSE);
    case 'number':
      if (Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0)) {
        w.u8(TAG_UINT);
        return w.varUint(value);
      }
      w.u8(TAG_F64);
      return w.f64(value);
    case 'string':
      w.u8(TAG_STRING);
      return w.string(value);
    default:
      break;
  }
  if (Array.isArray(value)) {
    w.u8(TAG_ARRAY);
    w.varUint(value.length);
    for (const item of value as readonly JsonValue[]) writeJsonValue(w, item);
    return;
  }
  const obj = value as { readonly [key: string]: JsonValue };
  const keys = Object.keys(obj);
  w.u8(TAG_OBJECT);
  w.varUint(keys.length);
  for (const key of keys) {
    w.string(key);
    writeJsonValue(w, obj[key]);
  }
}

/** Set an own property, also for the key `__proto__`. */
export function setOwn(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** Read a value written by {@link writeJsonValue}. */
export function readJsonValue(r: ByteReader): JsonValue | undefined {
  const tag = r.u8();
  switch (tag) {
    case TAG_ABSENT:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_UINT:
      return r.varUint();
    case TAG_F64:
      return r.f64();
    case TAG_STRING:
      return r.string();
    case TAG_ARRAY: {
      const n = r.varUint();
      const out: JsonValue[] = [];
      for (let i = 0; i < n; i++) out.push(readJsonValue(r) ?? null);
      return out;
    }
    case TAG_OBJECT: {
      const n = r.varUint();
      const out: Record<string, JsonValue> = {};
      for (let i = 0; i < n; i++) {
        const key = r.string();
        const v = readJsonValue(r);
        if (v !== undefined) setOwn(out, key, v);
      }
      return out;
    }
    default:
      throw new LcError({
        code: 'LC_ERR_BUFFER_CORRUPT',
        message: `unknown JSON value tag ${tag} at offset ${r.offset - 1}`,
      });
  }
}
