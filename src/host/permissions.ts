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
export function workerOptionsEnabled(): boolean | undefined {
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
