import type { Clock, Logger } from '@lc/core';
import type {
  KubernetesFileMetadata,
  KubernetesMetadataLookup,
  KubernetesPodRef,
} from '../kubernetes-monitor-options.js';
import type { KubernetesMetrics } from './kubernetes-metrics.js';

/** What {@link lookupMetadata} needs. */
export interface LookupContext {
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics: Pick<KubernetesMetrics, 'metadataErrors'>;
}

/**
 * Ask `lookup` about `ref`, within `timeoutMs`. A rejection, a throw or
 * the timeout are counted and logged and give `undefined`: the file is
 * read without those labels rather than not at all.
 */
export async function lookupMetadata(
  lookup: KubernetesMetadataLookup,
  ref: KubernetesPodRef,
  ctx: LookupContext,
): Promise<KubernetesFileMetadata | undefined> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  try {
    const answer = lookup(ref);
    if (!(answer instanceof Promise)) return answer;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = ctx.clock.setTimeout(() => resolve('timeout'), ctx.timeoutMs);
      timer.unref();
    });
    const result = await Promise.race([answer, timeout]);
    if (result === 'timeout') {
      answer.catch(() => undefined);
      throw new Error(`no answer within ${ctx.timeoutMs} ms`);
    }
    return result;
  } catch (error) {
    ctx.metrics.metadataErrors.inc();
    ctx.logger.warn(
      {
        err: error,
        namespace: ref.namespace,
        pod: ref.pod,
        container: ref.container,
      },
      'kubernetes: pod metadata lookup failed; reading the file without those labels',
    );
    return undefined;
  } finally {
    if (timer !== undefined) ctx.clock.clearTimeout(timer);
  }
}
