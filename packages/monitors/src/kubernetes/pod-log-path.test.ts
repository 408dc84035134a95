import { describe, expect, it } from 'vitest';
import {
  parseContainerLogLink,
  parsePodLogPath,
  podLogKey,
} from './pod-log-path.js';

const UID = '0f3c9a2e-51b4-4c8e-9a57-3d2c1b0a9f8e';
const CID = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

describe('parsePodLogPath', () => {
  it('should read namespace, pod, uid, container and restart count', () => {
    expect(
      parsePodLogPath(
        `/var/log/pods/kube-system_coredns-5d78c9869d-x2x7q_${UID}/coredns/3.log`,
      ),
    ).toEqual({
      namespace: 'kube-system',
      pod: 'coredns-5d78c9869d-x2x7q',
      podUid: UID,
      container: 'coredns',
      restartCount: 3,
    });
  });

  it('should read rotated and compressed generations as the same file', () => {
    const live = `/var/log/pods/default_web.v2-0_${UID}/app/0.log`;
    const ref = parsePodLogPath(live);
    expect(ref).toMatchObject({ pod: 'web.v2-0', restartCount: 0 });
    for (const g of [`${live}.20260101-120000`, `${live}.20260101-120000.gz`])
      expect(parsePodLogPath(g)).toEqual(ref);
    expect(podLogKey(ref!)).toBe(`default_web.v2-0_${UID}/app/0.log`);
  });

  it('should reject paths outside the kubelet layout', () => {
    for (const bad of [
      '/var/log/pods/nounderscores/app/0.log',
      `/var/log/pods/a_b_c_d/app/0.log`,
      `/var/log/pods/default_web_${UID}/app/x.log`,
      `/var/log/pods/default_web_${UID}/0.log`,
      `/var/log/pods/default_web_${UID}/app/0.txt`,
      '0.log',
    ])
      expect(parsePodLogPath(bad), bad).toBeUndefined();
  });
});

describe('parseContainerLogLink', () => {
  it('should read pod, namespace, container (dashes included) and container id', () => {
    expect(
      parseContainerLogLink(`web-7d9f_default_side-car-${CID}.log`),
    ).toEqual({
      pod: 'web-7d9f',
      namespace: 'default',
      container: 'side-car',
      containerId: CID,
    });
  });

  it('should reject other names', () => {
    expect(
      parseContainerLogLink(`web_default_app-${CID.slice(1)}.log`),
    ).toBeUndefined();
    expect(
      parseContainerLogLink(`web_default_app-${CID}.log.1`),
    ).toBeUndefined();
    expect(parseContainerLogLink('app.log')).toBeUndefined();
  });
});
