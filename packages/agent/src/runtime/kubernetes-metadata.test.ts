import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { planKubernetesMetadata } from './kubernetes-metadata.js';

let tmp: TempDir | undefined;
afterEach(async () => {
  await tmp?.cleanup();
  tmp = undefined;
});

const config = (metadata: string) =>
  unwrapConfig(
    parseConfig(
      `sources: {kubernetes: {enabled: true, metadata: ${metadata}}}\nsinks: {stdout: [{}]}\n`,
      { env: {} },
    ),
  );

describe('planKubernetesMetadata', () => {
  it('should leave metadata off with auto outside a cluster, saying why', async () => {
    tmp = await createTempDir('lc-k8s-plan-');
    const token = join(tmp.path, 'token');
    const auto = config(`{token_file: ${token}}`);
    expect(planKubernetesMetadata(auto, {}, {}).off).toMatch(
      /KUBERNETES_SERVICE_HOST is not set/,
    );
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', NODE_NAME: 'n1' };
    expect(planKubernetesMetadata(auto, env, {}).off).toMatch(
      /no service account token at .*token/,
    );
    await writeFile(token, 't');
    expect(
      planKubernetesMetadata(auto, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, {})
        .off,
    ).toMatch(/set NODE_NAME from the downward API/);
    expect(
      planKubernetesMetadata(config('{enabled: false}'), env, {}).off,
    ).toMatch(/enabled is false/);
  });

  it('should turn metadata on in a cluster, from the service host and port (IPv6 in brackets)', async () => {
    tmp = await createTempDir('lc-k8s-plan-');
    const token = join(tmp.path, 'token');
    await writeFile(token, 't');
    const auto = config(`{token_file: ${token}}`);
    const plan = planKubernetesMetadata(
      auto,
      {
        KUBERNETES_SERVICE_HOST: 'fd00::1',
        KUBERNETES_SERVICE_PORT: '6443',
        NODE_NAME: 'n1',
      },
      {},
    );
    expect(plan.metadata?.status()).toMatchObject({
      state: 'starting',
      apiServer: 'https://[fd00::1]:6443/',
      nodeName: 'n1',
    });
  });

  it('should require the API server and the node name when enabled is true, naming the key', () => {
    const err = (metadata: string, env: Record<string, string>) => {
      try {
        planKubernetesMetadata(config(metadata), env, {});
      } catch (error) {
        expect(LcError.isInstance(error, 'LC_ERR_CONFIG')).toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(err('{enabled: true}', { NODE_NAME: 'n1' })).toMatch(
      /^sources\.kubernetes\.metadata\.api_server: required/,
    );
    expect(
      err('{enabled: true, api_server: "https://10.0.0.1:443"}', {}),
    ).toMatch(/^sources\.kubernetes\.metadata\.node_name: required/);
    expect(
      err('{enabled: true, api_server: "https://10.0.0.1:443"}', {
        NODE_NAME: 'n1',
      }),
    ).toBe('no error');
  });
});
