/**
 * The limits of the YAML layer, in one place: how much a pipeline file or a
 * logging file may hold before it is refused. They bound the time and
 * memory reading and checking a file can take, whatever it holds; each
 * refusal names the limit (as `CONFIG_LIMITS.<key>`) and the value found.
 *
 * @module
 */

/** The limits of pipeline and logging files; see each key. */
export interface ConfigLimits {
  /** Bytes of a pipeline file: 1 MiB. */
  readonly pipelineFileBytes: number;
  /** Bytes of a logging file: 1 MiB. */
  readonly loggingFileBytes: number;
  /** Keys of one mapping, anywhere in a file: 1024. */
  readonly mappingKeys: number;
  /**
   * Nodes that aliases (`*name`) add to a file, all aliases together, each
   * counted at the size of what it stands for: 100000. Without a bound, a
   * few lines of nested aliases stand for billions of nodes.
   */
  readonly aliasNodes: number;
  /**
   * Actors of a pipeline, all groups together: 1024. Each actor is a Web
   * Worker, a thread with its own heap; `--check` builds every one.
   */
  readonly actors: number;
}

/** The limits of pipeline and logging files. */
export const CONFIG_LIMITS: ConfigLimits = Object.freeze({
  pipelineFileBytes: 1024 * 1024,
  loggingFileBytes: 1024 * 1024,
  mappingKeys: 1024,
  aliasNodes: 100_000,
  actors: 1024,
});

/** `1048576 bytes (1 MiB)`: a size in bytes, and in MiB when whole. */
export function bytesText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) && mib > 0
    ? `${bytes} bytes (${mib} MiB)`
    : `${bytes} bytes`;
}
