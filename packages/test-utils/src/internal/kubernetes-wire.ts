// Kubernetes API wire objects for the test endpoint: a Pod as the API
// serves it, a Status (errors), and the field selector of a list/watch.

/** A pod as the test describes it (what the server turns into a `Pod`). */
export interface TestPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly ownerReferences?: ReadonlyArray<{
    readonly kind: string;
    readonly name: string;
    readonly controller?: boolean;
  }>;
}

/** One request the server answered. */
export interface KubernetesTestRequest {
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorization: string | undefined;
  readonly watch: boolean;
  readonly status: number;
}

/** Options of {@link startKubernetesTestApi}. */
export interface KubernetesTestApiOptions {
  /** Serve HTTPS with this certificate and key (PEM). @default plain HTTP */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Bearer tokens accepted. @default ['test-token'] */
  readonly tokens?: readonly string[];
}

export function podObject(p: TestPod, rv: number): unknown {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      resourceVersion: String(rv),
      labels: p.labels ?? {},
      annotations: p.annotations ?? {},
      ownerReferences: (p.ownerReferences ?? []).map((o) => ({
        apiVersion: 'apps/v1',
        kind: o.kind,
        name: o.name,
        uid: `${o.name}-uid`,
        controller: o.controller ?? true,
      })),
    },
    spec: { nodeName: p.nodeName, containers: [{ name: 'app', image: 'x' }] },
    status: { phase: 'Running' },
  };
}

export function statusObject(
  code: number,
  reason: string,
  message: string,
): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

export const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** The node a `fieldSelector=spec.nodeName=<node>` names, if any. */
export function selectedNode(selector: string | undefined): string | undefined {
  if (selector === undefined) return undefined;
  const m = /(?:^|,)spec\.nodeName=([^,]*)/.exec(selector);
  return m?.[1];
}
