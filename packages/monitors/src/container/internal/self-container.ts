import { readFileSync } from 'node:fs';

const ID = /([0-9a-f]{64})/;

/**
 * Best-effort id of the container this process runs in, from
 * /proc/self/cgroup (cgroup v1) or /proc/self/mountinfo (cgroup v2, the
 * `/containers/<id>/` bind mounts of hostname and resolv.conf). Undefined
 * outside a container.
 */
export function detectSelfContainerId(
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | undefined {
  for (const path of ['/proc/self/cgroup', '/proc/self/mountinfo']) {
    let text: string;
    try {
      text = read(path);
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('docker') && !line.includes('/containers/')) continue;
      const m = ID.exec(line);
      if (m !== null) return m[1];
    }
  }
  return undefined;
}
