import { build, type Metafile, type Plugin } from "esbuild";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Globals that exist on Node but not on Workers or Vercel Edge. */
export const NODE_GLOBALS: readonly string[] = [
  "process", "Buffer", "global", "require", "module", "__dirname", "__filename", "setImmediate", "clearImmediate",
];

export interface GuardViolation {
  kind: "node-import" | "node-global";
  /** `node:fs`, or the global's name. */
  what: string;
  /** Where: the importing file, or `file:line`. */
  where: string;
  /** The import chain from the entry to the offending file (for an import: ending with the module imported). */
  chain: string[];
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUILTIN = new RegExp(`^(node:.*|(${builtinModules.map((m) => m.replace(/[/]/g, "\\/")).join("|")})(\\/.*)?)$`);

/**
 * Bundle `entry` for an edge target and report every Node built-in it imports (directly or through dependencies)
 * and every Node global it uses. In our own files any use counts. In dependencies, the uses that break an edge
 * runtime on import count: those evaluated when the module loads (outside any function) and not behind a feature
 * check (`typeof X`, `globalThis.X`) or a try block. Uses inside dependency functions run only on the paths that
 * call them; the runtime tests (workerd, edge-runtime) execute ours.
 */
export async function checkEdgeEntry(entry: string, conditions: string[]): Promise<GuardViolation[]> {
  const imported: Array<{ importer: string; path: string }> = [];
  const recordBuiltins: Plugin = {
    name: "record-node-builtins",
    setup(b) {
      b.onResolve({ filter: BUILTIN }, (args) => {
        imported.push({ importer: relative(args.importer), path: args.path });
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    conditions,
    mainFields: ["browser", "module", "main"],
    logLevel: "silent",
    plugins: [recordBuiltins],
  });
  const parents = _parents(result.metafile, entry);
  const violations: GuardViolation[] = imported.map(({ importer, path }) => ({
    kind: "node-import",
    what: path,
    where: importer,
    chain: [..._chain(parents, importer), path],
  }));
  for (const file of Object.keys(result.metafile.inputs)) {
    const ours = !file.includes("node_modules/");
    for (const use of _nodeGlobals(file, await readFile(`${ROOT}/${file}`, "utf8"), ours)) {
      violations.push({ kind: "node-global", what: use.name, where: `${file}:${use.line}`, chain: _chain(parents, file) });
    }
  }
  return violations;
}

/** One line per violation: what, where, and the chain that brought it in. */
export function formatViolations(violations: GuardViolation[]): string {
  return violations.map((v) => `${v.kind} ${v.what} at ${v.where}\n    via ${v.chain.join(" → ")}`).join("\n");
}

// --- internal ---

function relative(path: string): string {
  return path.startsWith(ROOT) ? path.slice(ROOT.length).replace(/^\//, "") : path;
}

/** Breadth-first from the entry: the first importer of every input, so chains are shortest. */
function _parents(metafile: Metafile, entry: string): Map<string, string | null> {
  const parents = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { path, external } of metafile.inputs[file]?.imports ?? []) {
      if (external || parents.has(path)) continue;
      parents.set(path, file);
      queue.push(path);
    }
  }
  return parents;
}

function _chain(parents: Map<string, string | null>, file: string): string[] {
  const chain: string[] = [];
  for (let at: string | null | undefined = file; at; at = parents.get(at)) chain.unshift(at);
  return chain;
}

/** Free references to Node globals; in dependencies, only those no `typeof` check or try block guards. */
function _nodeGlobals(file: string, text: string, strict: boolean): Array<{ name: string; line: number }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const declared = new Set<string>();
  const candidates: ts.Identifier[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isIdentifier(node) && NODE_GLOBALS.includes(node.text)) {
      if (_isDeclaration(node)) declared.add(node.text);
      else if (_isReference(node)) candidates.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return candidates
    .filter((id) => !declared.has(id.text) && !ts.isTypeOfExpression(id.parent))
    .filter((id) => strict || (_atLoad(id) && !_guarded(id)))
    .map((id) => ({ name: id.text, line: source.getLineAndCharacterOfPosition(id.getStart()).line + 1 }));
}

function _isDeclaration(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p) || ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) || ts.isClassDeclaration(p) || ts.isImportSpecifier(p) || ts.isImportClause(p) ||
      ts.isNamespaceImport(p)) && p.name === id)
  );
}

function _isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) ||
    ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isPropertySignature(p)) && p.name === id) return false;
  if (ts.isExportSpecifier(p) || ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  return !ts.isQualifiedName(p);
}

/** Evaluated when the module loads: not inside a function, method or accessor body. */
function _atLoad(id: ts.Identifier): boolean {
  for (let at: ts.Node | undefined = id.parent; at; at = at.parent) {
    if (ts.isFunctionLike(at)) return false;
  }
  return true;
}

/** Behind a feature check: inside an if/?:/&&/|| whose condition uses `typeof` or `globalThis.X`, or a try block. */
function _guarded(id: ts.Identifier): boolean {
  const isCheck = (node: ts.Node): boolean =>
    ts.isTypeOfExpression(node) ||
    ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) &&
      ts.isIdentifier(node.expression) && node.expression.text === "globalThis");
  const hasTypeof = (node: ts.Node): boolean => isCheck(node) || !!ts.forEachChild(node, hasTypeof);
  for (let at: ts.Node = id; at.parent; at = at.parent) {
    const p = at.parent;
    if (ts.isIfStatement(p) && p.expression !== at && hasTypeof(p.expression)) return true;
    if (ts.isConditionalExpression(p) && p.condition !== at && hasTypeof(p.condition)) return true;
    if (ts.isBinaryExpression(p) && p.right === at && hasTypeof(p.left)) return true;
    if (ts.isTryStatement(p) && p.tryBlock === at) return true;
  }
  return false;
}
