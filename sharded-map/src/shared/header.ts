import { ShardedMapError } from '../errors.js';
import { fnv1a32 } from '../hash.js';
import { isPowerOfTwo, MAX_SHARDS } from '../options.js';
import {
  computeGeometry,
  type FieldType,
  isFieldType,
  type Geometry,
  H,
  HEADER_WORDS,
  LAYOUT_JSON_MAX,
  LAYOUT_JSON_OFFSET,
  LAYOUT_VERSION,
  MAGIC,
  type RecordLayout,
} from './layout.js';

/** What a buffer's header declares. */
export interface HeaderInfo {
  readonly geometry: Geometry;
  readonly layout: RecordLayout;
  readonly lockTimeoutMs: number;
  readonly capacity: number;
}

/** Writes the header of a fresh buffer. The magic is written last: a half-written header is refused. */
export function writeHeader(
  buffer: SharedArrayBuffer,
  g: Geometry,
  layoutJson: string,
  lockTimeoutMs: number,
  capacity: number,
): void {
  const i32 = new Int32Array(buffer, 0, HEADER_WORDS);
  const json = new TextEncoder().encode(layoutJson);
  if (json.length > LAYOUT_JSON_MAX) {
    throw new ShardedMapError(
      'EDGEFLOW_MAP_BAD_OPTION',
      `SharedShardedMap: record layout description is ${json.length} bytes (limit ${LAYOUT_JSON_MAX})`,
    );
  }
  new Uint8Array(buffer, LAYOUT_JSON_OFFSET, json.length).set(json);
  i32[H.version] = LAYOUT_VERSION;
  i32[H.shards] = g.shards;
  i32[H.slots] = g.slots;
  i32[H.maxKeyBytes] = g.maxKeyBytes;
  i32[H.slotBytes] = g.slotBytes;
  i32[H.recordBytes] = g.recordBytes;
  i32[H.shardBytes] = g.shardBytes;
  i32[H.shardBase] = g.shardBase;
  i32[H.totalBytes] = g.totalBytes | 0;
  i32[H.layoutLen] = json.length;
  i32[H.layoutHash] = fnv1a32(layoutJson) | 0;
  i32[H.maxOwners] = g.maxOwners;
  i32[H.lockTimeoutMs] = lockTimeoutMs;
  i32[H.capacity] = capacity;
  i32[H.stringBytes] = g.strings?.bytes ?? 0;
  Atomics.store(i32, H.magic, MAGIC);
}

function badBuffer(why: string): ShardedMapError {
  return new ShardedMapError('EDGEFLOW_MAP_BAD_BUFFER', `SharedShardedMap.attach: ${why}`);
}

function parseLayout(json: string): RecordLayout {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new ShardedMapError(
      'EDGEFLOW_MAP_BAD_BUFFER',
      'SharedShardedMap.attach: record layout in the header is not valid JSON',
      { cause },
    );
  }
  if (!Array.isArray(parsed)) throw badBuffer('record layout in the header is not a list');
  const layout: Record<string, FieldType> = {};
  for (const entry of parsed as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
      throw badBuffer('record layout entry in the header is malformed');
    }
    if (!isFieldType(entry[1])) throw badBuffer(`unknown field type ${entry[1]}`);
    layout[entry[0]] = entry[1];
  }
  return layout;
}

/** Validates and reads the header of `buffer` (magic, version, geometry re-derived and compared). */
export function readHeader(buffer: unknown): HeaderInfo {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw badBuffer(`expected a SharedArrayBuffer, got ${Object.prototype.toString.call(buffer)}`);
  }
  if (buffer.byteLength < LAYOUT_JSON_OFFSET + LAYOUT_JSON_MAX) {
    throw badBuffer(`buffer of ${buffer.byteLength} bytes is too small to hold a header`);
  }
  const i32 = new Int32Array(buffer, 0, HEADER_WORDS);
  const magic = Atomics.load(i32, H.magic);
  if (magic !== MAGIC) {
    throw badBuffer(`wrong magic 0x${(magic >>> 0).toString(16)} (not a SharedShardedMap buffer)`);
  }
  const version = i32[H.version] as number;
  if (version !== LAYOUT_VERSION) {
    throw new ShardedMapError(
      'EDGEFLOW_MAP_BAD_VERSION',
      `SharedShardedMap.attach: buffer layout version ${version}, this package reads version ${LAYOUT_VERSION}`,
    );
  }
  const len = i32[H.layoutLen] as number;
  if (len <= 0 || len > LAYOUT_JSON_MAX) throw badBuffer('layout length in the header is corrupt');
  const bytes = new Uint8Array(len);
  bytes.set(new Uint8Array(buffer, LAYOUT_JSON_OFFSET, len));
  const json = new TextDecoder().decode(bytes);
  if ((fnv1a32(json) | 0) !== i32[H.layoutHash]) throw badBuffer('layout checksum mismatch');
  const layout = parseLayout(json);
  const shards = i32[H.shards] as number;
  if (!isPowerOfTwo(shards) || shards > MAX_SHARDS)
    throw badBuffer(`corrupt shard count ${shards}`);
  let g: Geometry;
  try {
    g = computeGeometry(
      shards,
      i32[H.slots] as number,
      i32[H.maxKeyBytes] as number,
      layout,
      i32[H.maxOwners] as number,
      i32[H.stringBytes],
    );
  } catch (cause) {
    throw new ShardedMapError(
      'EDGEFLOW_MAP_BAD_BUFFER',
      'SharedShardedMap.attach: corrupt geometry',
      {
        cause,
      },
    );
  }
  if (
    g.slotBytes !== i32[H.slotBytes] ||
    g.shardBytes !== i32[H.shardBytes] ||
    g.shardBase !== i32[H.shardBase] ||
    (g.totalBytes | 0) !== i32[H.totalBytes] ||
    g.totalBytes !== buffer.byteLength
  ) {
    throw badBuffer('geometry in the header does not match the buffer size or the layout');
  }
  return {
    geometry: g,
    layout,
    lockTimeoutMs: i32[H.lockTimeoutMs] as number,
    capacity: i32[H.capacity] as number,
  };
}
