/**
 * What N EncryptedBuckets with their defaults make in one stack, counted from the synthesized
 * template, and their fixed monthly cost at the list prices below. The README's cost table is this
 * module's output (test/bucket/cost.test.ts asserts it).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EncryptedBucket } from '../src';

/**
 * List prices (US East (N. Virginia)) the fixed cost rests on:
 * - AWS KMS (https://aws.amazon.com/kms/pricing/): each customer managed key $1/month; the first and
 *   the second rotation of its key material add $1/month each (later rotations add nothing).
 * - Amazon CloudWatch (https://aws.amazon.com/cloudwatch/pricing/): a standard-resolution alarm
 *   $0.10/month per metric it reads; the KMS quota alarm reads 5 (one per KMS API).
 * Amazon SNS topics, S3 buckets and inventory configurations have no fixed monthly charge (S3
 * Inventory is billed per million objects listed, CloudTrail data events per 100,000 events).
 */
export const PRICES = { kmsKeyMonth: 1, kmsKeyMonthAfterTwoRotations: 3, alarmMetricMonth: 0.1 } as const;

export interface Counts {
  readonly buckets: number;
  readonly kmsKeys: number;
  readonly logBuckets: number;
  readonly topics: number;
  readonly alarms: number;
  readonly alarmMetrics: number;
  readonly inventories: number;
  readonly trails: number;
  readonly resources: number;
}

/** Synthesizes N default EncryptedBuckets in one stack and counts what they make. */
export function countDefaults(n: number): Counts {
  const app = new App();
  const stack = new Stack(app, 'Buckets', { env: { account: '111111111111', region: 'us-east-1' } });
  for (let i = 0; i < n; i++) new EncryptedBucket(stack, `Bucket${i}`);
  const t = Template.fromStack(stack).toJSON();
  const resources = Object.values<any>(t.Resources);
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const buckets = ofType('AWS::S3::Bucket');
  const alarms = ofType('AWS::CloudWatch::Alarm');
  return {
    buckets: n,
    kmsKeys: ofType('AWS::KMS::Key').length,
    logBuckets: buckets.length - n,
    topics: ofType('AWS::SNS::Topic').length,
    alarms: alarms.length,
    alarmMetrics: alarms.reduce((sum, a) => sum + (a.Properties.Metrics ?? []).filter((m: any) => m.MetricStat).length, 0),
    inventories: buckets.reduce((sum, b) => sum + (b.Properties.InventoryConfigurations ?? []).length, 0),
    trails: ofType('AWS::CloudTrail::Trail').length,
    resources: resources.length,
  };
}

/** Fixed monthly cost in USD: keys in their first year, and after their second rotation. */
export function monthlyCost(c: Counts): { firstYear: number; afterTwoRotations: number } {
  const alarms = c.alarmMetrics * PRICES.alarmMetricMonth;
  return {
    firstYear: c.kmsKeys * PRICES.kmsKeyMonth + alarms,
    afterTwoRotations: c.kmsKeys * PRICES.kmsKeyMonthAfterTwoRotations + alarms,
  };
}

export const COST_TABLE_SIZES = [1, 20, 100] as const;

/** The README's cost table (Markdown rows, header included). */
export function renderCostTable(): string {
  const usd = (v: number) => `$${v.toFixed(2)}`;
  const rows = [
    '| buckets | KMS keys | log buckets | SNS topics | alarms (metrics) | inventories | trails | resources | fixed cost/month, first year | after two key rotations |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const n of COST_TABLE_SIZES) {
    const c = countDefaults(n);
    const cost = monthlyCost(c);
    rows.push(`| ${n} | ${c.kmsKeys} | ${c.logBuckets} | ${c.topics} | ${c.alarms} (${c.alarmMetrics}) | ${c.inventories} | ${c.trails} | ${c.resources} | ${usd(cost.firstYear)} | ${usd(cost.afterTwoRotations)} |`);
  }
  return rows.join('\n');
}

if (require.main === module) console.log(renderCostTable());
