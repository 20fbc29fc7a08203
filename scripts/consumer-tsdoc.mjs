// What an editor shows a consumer when they hover an import: the TSDoc of the declaration the
// import resolves to. scripts/check-packages.mjs asks this of packaging/consumer/main-api.ts in the
// consumer project (the packed tarballs installed with npm), per moduleResolution. Each entry's
// `.d.ts` is a one-line re-export of its `.d.cts` (rollup.type-stubs.mjs): this is what shows that
// the comments, which only the `.d.cts` holds, still reach ESM and CommonJS consumers alike.
import { createRequire } from "node:module";
import { basename } from "node:path";

/**
 * Every named import from a `@certbound/*` package in `file`, with its documentation as the type
 * checker finds it under `compilerOptions` (tsc's command-line names, e.g. `{ module: "node16" }`).
 * @param {{ root: string, cwd: string, file: string, compilerOptions: Record<string, unknown> }} options
 * @returns {{ name: string, from: string, declaredIn: string | undefined, documented: boolean }[]}
 */
export function importedDocs({ root, cwd, file, compilerOptions }) {
  const ts = createRequire(`${root}/package.json`)("typescript");
  const { options, errors } = ts.convertCompilerOptionsFromJson(compilerOptions, cwd);
  if (errors.length > 0) throw new Error(ts.flattenDiagnosticMessageText(errors[0].messageText, "\n"));
  const host = ts.createCompilerHost(options);
  host.getCurrentDirectory = () => cwd;
  const program = ts.createProgram({ rootNames: [file], options, host });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not part of the program`);
  const found = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const from = statement.moduleSpecifier.text;
    const bindings = statement.importClause?.namedBindings;
    if (!from.startsWith("@certbound/") || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      let symbol = checker.getSymbolAtLocation(element.name);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      const declaration = symbol?.declarations?.[0];
      const doc = symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() : "";
      found.push({
        name: element.name.text,
        from,
        declaredIn: declaration && basename(declaration.getSourceFile().fileName),
        documented: doc.length > 0,
      });
    }
  }
  return found;
}
