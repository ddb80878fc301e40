/**
 * Per-group permissions: the detection of the `--unstable-worker-options`
 * flag that Deno needs for them.
 *
 * Deno does not throw when a worker asks for its own permissions without the
 * flag: it prints a line and exits the whole process with code 70. So the
 * relay looks for the flag before it spawns anything. Deno exposes its flags
 * to a program only through `/proc/self/cmdline`, which it lets a program
 * read with `--allow-all` alone; without it the relay cannot tell, and spawns.
 *
 * @module
 */

const FLAG = "--unstable-worker-options";
const FEATURE = "worker-options";

/**
 * Whether Deno runs with `--unstable-worker-options` (or the `unstable`
 * setting of a config file): `true`, `false`, or `undefined` when the
 * program may not read its own command line (it needs `--allow-all`).
 */
function workerOptionsEnabled(): boolean | undefined {
  let argv: string[];
  try {
    argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch {
    return undefined;
  }
  // Deno's own flags come before the script; the script's after it.
  const script = argv.findIndex((a, i) =>
    i > 1 && !a.startsWith("-") && /\.(m?[jt]sx?|c[jt]s)$/.test(a)
  );
  const flags = script === -1 ? argv.slice(1) : argv.slice(1, script);
  if (flags.some((f) => f === FLAG || f === "--unstable")) return true;
  if (flags.some((f) => f.startsWith("--unstable=") && f.includes(FEATURE))) {
    return true;
  }
  if (flags.includes("--no-config")) return false;
  const explicit = configFlag(flags);
  const candidates = explicit !== undefined ? [explicit] : discoverConfigs();
  return candidates.some(enablesFeature);
}

function configFlag(flags: string[]): string | undefined {
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f === "--config" || f === "-c") return flags[i + 1];
    if (f.startsWith("--config=")) return f.slice("--config=".length);
  }
  return undefined;
}

/** deno.json and deno.jsonc in the working directory and its parents. */
function discoverConfigs(): string[] {
  const found: string[] = [];
  let dir = Deno.cwd();
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      found.push(`${dir}/${name}`);
    }
    const parent = dir.replace(/\/[^/]*$/, "");
    if (parent === dir || parent === "") break;
    dir = parent;
  }
  found.push("/deno.json", "/deno.jsonc");
  return found;
}

function enablesFeature(path: string): boolean {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return false;
  }
  const unstable = /"unstable"\s*:\s*\[([^\]]*)\]/.exec(text);
  return unstable !== null && unstable[1].includes(`"${FEATURE}"`);
}

/**
 * Throws a `TypeError` naming the flag when the relay can tell that Deno runs
 * without `--unstable-worker-options`, which per-group permissions need.
 */
export function checkWorkerOptions(group: string): void {
  if (workerOptionsEnabled() === false) {
    throw new TypeError(
      `Cannot start relay: group ${group} has its own permissions, which Deno grants workers only with the ${FLAG} flag; run with deno run ${FLAG} … (or add "unstable": ["${FEATURE}"] to deno.json)`,
    );
  }
}

const FLAGS: Readonly<Record<string, string>> = {
  env: "--allow-env",
  ffi: "--allow-ffi",
  import: "--allow-import",
  net: "--allow-net",
  read: "--allow-read",
  run: "--allow-run",
  sys: "--allow-sys",
  write: "--allow-write",
};

/** The key of a permission's descriptor that names one allowed value. */
const VALUE_KEYS: Readonly<Record<string, string>> = {
  env: "variable",
  ffi: "path",
  import: "host",
  net: "host",
  read: "path",
  run: "command",
  sys: "kind",
  write: "path",
};

/**
 * Throws a `TypeError` naming the group, the permission and the flag when a
 * group asks for a permission this program does not have: Deno would refuse
 * the worker with a bare "Can't escalate parent thread permissions", after
 * other workers started.
 */
export function checkGrantable(
  group: string,
  permissions: Deno.PermissionOptions,
): void {
  if (typeof permissions !== "object") return;
  for (const [kind, value] of Object.entries(permissions)) {
    const values: (string | undefined)[] = value === true
      ? [undefined]
      : Array.isArray(value)
      ? value.map((v) => v instanceof URL ? v.pathname : String(v))
      : [];
    for (const v of values) {
      const descriptor = v === undefined
        ? { name: kind }
        : { name: kind, [VALUE_KEYS[kind]]: v };
      let state: string;
      try {
        state = Deno.permissions.querySync(
          descriptor as Deno.PermissionDescriptor,
        ).state;
      } catch {
        continue; // a descriptor Deno cannot check here: it decides at spawn
      }
      if (state !== "granted") {
        const asked = v === undefined ? `all ${kind} access` : `${kind} ${v}`;
        throw new TypeError(
          `Cannot start relay: group ${group} asks for ${asked}, which this program was not granted; run it with ${
            FLAGS[kind]
          }${
            v === undefined ? "" : `=${v}`
          }, or narrow the group's permissions`,
        );
      }
    }
  }
}
