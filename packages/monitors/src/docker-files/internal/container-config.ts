import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What the files mode knows of a container, from the files beside its log. */
export interface ContainerConfig {
  /** Full container id. */
  readonly id: string;
  /** Name without the leading `/`. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Log driver (`HostConfig.LogConfig.Type`), `json-file` when not said. */
  readonly logDriver: string;
  /** `config.v2.json`'s mtime when read, ms (a change means read it again). */
  readonly mtimeMs: number;
}

interface ConfigV2 {
  ID?: unknown;
  Name?: unknown;
  Config?: { Image?: unknown; Labels?: unknown };
}

interface HostConfig {
  LogConfig?: { Type?: unknown };
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value))
    if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Read `config.v2.json` (name, image, labels) and `hostconfig.json` (log
 * driver) of the container whose directory is `dir`
 * (`<data_root>/containers/<id>`). Undefined when the container's files
 * are gone or unreadable; throws nothing.
 */
export async function readContainerConfig(
  dir: string,
): Promise<ContainerConfig | undefined> {
  const path = join(dir, 'config.v2.json');
  try {
    const [st, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    const c = JSON.parse(text) as ConfigV2;
    if (typeof c.ID !== 'string') return undefined;
    let logDriver = 'json-file';
    try {
      const h = JSON.parse(
        await readFile(join(dir, 'hostconfig.json'), 'utf8'),
      ) as HostConfig;
      if (typeof h.LogConfig?.Type === 'string' && h.LogConfig.Type !== '')
        logDriver = h.LogConfig.Type;
    } catch {
      // Written with config.v2.json; a missing one leaves the default.
    }
    return {
      id: c.ID,
      name: typeof c.Name === 'string' ? c.Name.replace(/^\//, '') : '',
      image: typeof c.Config?.Image === 'string' ? c.Config.Image : '',
      labels: stringRecord(c.Config?.Labels),
      logDriver,
      mtimeMs: st.mtimeMs,
    };
  } catch {
    return undefined;
  }
}

/** `config.v2.json`'s mtime, ms; undefined when gone. */
export async function configMtimeMs(dir: string): Promise<number | undefined> {
  try {
    return (await stat(join(dir, 'config.v2.json'))).mtimeMs;
  } catch {
    return undefined;
  }
}
