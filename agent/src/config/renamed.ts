/**
 * Keys an earlier release used that have a new name. A configuration file outlives releases:
 * an OTA update does not touch `/etc/edgeflow`, and an older agent refuses the new name as an
 * unknown key, so a gateway cannot switch to the new name before it runs the new release.
 * The old name therefore keeps its meaning (moved to the new key before validation, reported
 * as a notice with EDGEFLOW_CONFIG_RENAMED_KEY); giving both is refused, since they could say
 * different things.
 */
export interface RenamedKey {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

export const RENAMED_KEYS: readonly RenamedKey[] = [
  // The OTA grant is one access list per transport, like gpio.access and attestation.access.
  { from: ['ota', 'mqttInstall', 'users'], to: ['ota', 'access', 'mqttUsers'] },
];

/** A renamed key found in a configuration (logged at start as `config.renamed_key`). */
export interface ConfigNotice {
  readonly code: 'EDGEFLOW_CONFIG_RENAMED_KEY';
  readonly key: string;
  readonly replacement: string;
  readonly message: string;
}

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function parentOf(root: Node, path: readonly string[], create: boolean): Node | undefined {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isNode(next)) {
      if (!create || next !== undefined) return undefined;
      node[key] = {};
    }
    node = node[key] as Node;
  }
  return node;
}

/**
 * Moves every renamed key of `raw` (a parsed file, not yet validated; changed in place) to its
 * new name. Returns the notices, and one problem line per key given under both names.
 */
export function moveRenamedKeys(raw: Node): { notices: ConfigNotice[]; problems: string[] } {
  const notices: ConfigNotice[] = [];
  const problems: string[] = [];
  for (const r of RENAMED_KEYS) {
    const oldParent = parentOf(raw, r.from, false);
    const oldKey = r.from[r.from.length - 1] as string;
    if (oldParent === undefined || !(oldKey in oldParent)) continue;
    const key = r.from.join('.');
    const replacement = r.to.join('.');
    const newParent = parentOf(raw, r.to, true);
    const newKey = r.to[r.to.length - 1] as string;
    const value = oldParent[oldKey];
    // Removed either way, so the schema does not also call it an unknown key.
    delete oldParent[oldKey];
    if (newParent === undefined || newKey in newParent) {
      problems.push(
        `${key}: renamed to ${replacement}, which is given as well: keep only ${replacement}`,
      );
      continue;
    }
    newParent[newKey] = value;
    notices.push({
      code: 'EDGEFLOW_CONFIG_RENAMED_KEY',
      key,
      replacement,
      message: `${key} is the earlier name of ${replacement} and is read as it: write ${replacement} instead once every gateway runs a release that knows it (older agents refuse the new name)`,
    });
  }
  return { notices, problems };
}
