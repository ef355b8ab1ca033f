/**
 * Jest snapshot serializer for CloudFormation templates: asset hashes and the runtime-lookup
 * mappings that aws-cdk-lib adds are replaced, so a snapshot changes only when the template
 * really changes, not when aws-cdk-lib is upgraded.
 */
const SEEN = Symbol.for('cdk-s3-encryption.snapshot-normalized');
const ASSET_HASH = /[0-9a-f]{64}/g;
const VERSION_MAPPING = /(RuntimeMap|LatestNodeRuntime|ServiceprincipalMap|RegionMap)/i;

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '[ASSET HASH]');
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Mappings' && v && typeof v === 'object') {
        const kept = Object.fromEntries(Object.entries(v).filter(([name]) => !VERSION_MAPPING.test(name)));
        if (Object.keys(kept).length > 0) out[k] = normalize(kept);
        continue;
      }
      if (k === 'BootstrapVersion' || k === 'CheckBootstrapVersion') continue;
      out[k.replace(ASSET_HASH, '[ASSET HASH]')] = normalize(v);
    }
    return out;
  }
  return value;
}

module.exports = {
  test(value: unknown): boolean {
    return !!value && typeof value === 'object' && 'Resources' in (value as object) && !(value as any)[SEEN];
  },
  serialize(value: unknown, config: any, indentation: string, depth: number, refs: any, printer: any): string {
    const normalized = normalize(value) as Record<string | symbol, unknown>;
    Object.defineProperty(normalized, SEEN, { value: true, enumerable: false });
    return printer(normalized, config, indentation, depth, refs);
  },
};
