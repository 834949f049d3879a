/**
 * A small reader for flattened device trees (DTB/DTBO), enough to check an overlay's root
 * `compatible` and its fixups without spawning dtc. Format: Devicetree Specification v0.4, ch. 5.
 */
import { dtError } from './errors.js';

/** A node of a parsed device tree. */
export interface FdtNode {
  readonly name: string;
  readonly props: ReadonlyMap<string, Buffer>;
  readonly children: readonly FdtNode[];
}

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error(`unterminated string at ${at}`);
  return buf.toString('latin1', at, end);
}

/**
 * Parse a DTB. Throws EDGEFLOW_DT_IO with `what` in the message when the bytes are not a
 * device tree (wrong magic, truncated, bad token).
 */
export function parseFdt(buf: Buffer, what = 'device tree'): FdtNode {
  try {
    if (buf.length < 40 || buf.readUInt32BE(0) !== FDT_MAGIC) throw new Error('bad magic');
    const totalSize = buf.readUInt32BE(4);
    if (totalSize > buf.length) throw new Error('truncated');
    const offStruct = buf.readUInt32BE(8);
    const offStrings = buf.readUInt32BE(12);
    let pos = offStruct;
    const stack: { name: string; props: Map<string, Buffer>; children: FdtNode[] }[] = [];
    let root: FdtNode | undefined;
    for (;;) {
      const token = buf.readUInt32BE(pos);
      pos += 4;
      if (token === FDT_BEGIN_NODE) {
        const name = cString(buf, pos);
        pos += (Buffer.byteLength(name, 'latin1') + 4) & ~3;
        stack.push({ name, props: new Map(), children: [] });
      } else if (token === FDT_END_NODE) {
        const node = stack.pop();
        if (!node) throw new Error('unbalanced END_NODE');
        const parent = stack.at(-1);
        if (parent) parent.children.push(node);
        else root = node;
      } else if (token === FDT_PROP) {
        const len = buf.readUInt32BE(pos);
        const nameOff = buf.readUInt32BE(pos + 4);
        const value = buf.subarray(pos + 8, pos + 8 + len);
        pos += (8 + len + 3) & ~3;
        const node = stack.at(-1);
        if (!node) throw new Error('property outside a node');
        node.props.set(cString(buf, offStrings + nameOff), Buffer.from(value));
      } else if (token === FDT_NOP) {
        continue;
      } else if (token === FDT_END) {
        break;
      } else {
        throw new Error(`bad token ${token} at ${pos - 4}`);
      }
    }
    if (!root) throw new Error('no root node');
    return root;
  } catch (err) {
    throw dtError(
      'EDGEFLOW_DT_IO',
      `${what} is not a valid flattened device tree: ${(err as Error).message}`,
      err,
    );
  }
}

/** Decode a string-list property (NUL-separated). */
export function stringList(value: Buffer | undefined): string[] {
  if (!value || value.length === 0) return [];
  return value.toString('latin1').replace(/\0$/, '').split('\0');
}

/** Find a child by name. */
export function child(node: FdtNode, name: string): FdtNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** Labels an overlay needs from its base (`__fixups__` property names). */
export function overlayFixups(root: FdtNode): string[] {
  const fixups = child(root, '__fixups__');
  return fixups ? [...fixups.props.keys()].sort() : [];
}
