#!/usr/bin/env node
// Checks that resource files name their JSON Schema in a yaml-language-server
// modeline and validate against it, with a validator independent of the
// operator's (Ajv 6, JSON Schema draft-07, and the `yaml` parser):
//
//   node crds/check_modelines.js FILE|DIR...
//
// Every .yaml/.yml file under the arguments must start with
//   # yaml-language-server: $schema=RELATIVE/PATH/TO/SCHEMA.json
// Editors apply a modeline to the document whose leading comments hold it, so
// each later document of a multi-document file must repeat one after its
// "---". Each document is validated against its modeline's schema (resolved
// from the file's directory, with the schemas it references loaded from
// beside it). Then negative cases made in memory from the checked files must
// be rejected, so a checker that accepts everything fails too.
// Exit status: 0 all valid, 1 a file or a negative case failed, 2 usage.
'use strict';

const fs = require('fs');
const path = require('path');

// Debian installs node-ajv, node-yaml and their dependencies in
// /usr/share/nodejs, which Debian's node searches and other builds of node
// do not: make it part of the module path before loading them.
const DEBIAN_NODE_MODULES = '/usr/share/nodejs';
if (!(process.env.NODE_PATH || '').split(path.delimiter).includes(DEBIAN_NODE_MODULES)) {
  process.env.NODE_PATH = [process.env.NODE_PATH, DEBIAN_NODE_MODULES]
    .filter(Boolean)
    .join(path.delimiter);
  require('module')._initPaths();
}
const Ajv = require('ajv');
const YAML = require('yaml');

const MODELINE = /^#\s+yaml-language-server\s*:\s*\$schema=(\S+)\s*$/;
const COMBINED_SCHEMA = path.join(__dirname, 'schemas', 'swarmgate.v1alpha1.json');

// The schemas loaded so far, compiled on first use. Relative $refs between
// schema files are resolved by Ajv against the referring schema's $id, so
// each referenced file is loaded (from the referring file's directory) and
// registered under its own $id before anything is compiled.
class Schemas {
  constructor() {
    this.ajv = new Ajv({
      allErrors: true,
      // Draft-07 ignores keywords beside $ref; ours are annotations for
      // editors (description, default). Ajv warns about each: keep the rest.
      extendRefs: 'ignore',
      logger: {
        log: console.log,
        warn: (...args) => {
          if (!String(args[0]).startsWith('$ref: keywords ignored')) console.warn(...args);
        },
        error: console.error,
      },
    });
    this.idByFile = new Map();
  }

  // The compiled validator of the schema in `file`; throws an Error saying
  // what is wrong with the schema or the files it references.
  validator(file) {
    const id = this.add(path.resolve(file));
    return this.ajv.getSchema(id);
  }

  add(file) {
    if (this.idByFile.has(file)) return this.idByFile.get(file);
    let schema;
    try {
      schema = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`cannot load schema ${file}: ${e.message}`);
    }
    if (typeof schema.$id !== 'string') throw new Error(`schema ${file} has no $id`);
    this.idByFile.set(file, schema.$id);
    this.ajv.addSchema(schema);
    for (const ref of externalRefs(schema)) {
      const target = path.resolve(path.dirname(file), ref);
      const id = this.add(target);
      const expected = new URL(ref, schema.$id).href;
      if (id !== expected) {
        throw new Error(`${file}: "$ref": "${ref}" means ${expected}, but ${target} has $id ${id}`);
      }
    }
    return schema.$id;
  }
}

// The file parts of the $refs in `node` that point outside their schema.
function externalRefs(node, refs = new Set()) {
  if (Array.isArray(node)) {
    node.forEach((item) => externalRefs(item, refs));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) {
        refs.add(value.split('#')[0]);
      } else {
        externalRefs(value, refs);
      }
    }
  }
  return refs;
}

// The comments before each document's content, one list per document, as
// yaml-language-server collects them to find a document's modeline.
function documentHeaderComments(text) {
  const headers = [];
  let pending = [];
  for (const token of new YAML.Parser().parse(text)) {
    if (token.type === 'comment') {
      pending.push(token.source);
    } else if (token.type === 'document') {
      const start = (token.start || []).filter((t) => t.type === 'comment').map((t) => t.source);
      headers.push([...pending, ...start]);
      pending = [];
    } else if (!['newline', 'space', 'byte-order-mark', 'directive'].includes(token.type)) {
      pending = [];
    }
  }
  return headers;
}

function schemaOfHeader(comments) {
  for (const comment of comments) {
    const m = MODELINE.exec(comment);
    if (m) return m[1];
  }
  return null;
}

function describeDocument(index, value) {
  const kind = value && typeof value === 'object' && value.kind;
  const name = value && value.metadata && value.metadata.name;
  return `document ${index}` + (kind ? ` (${kind}${name ? ' ' + name : ''})` : '');
}

function formatAjvError(e) {
  const where = e.dataPath || '(the document)';
  const params = Object.keys(e.params || {}).length ? ' ' + JSON.stringify(e.params) : '';
  return `    ${where}: ${e.message}${params}`;
}

// The problems of one file's text (empty when it is valid). `name` is what
// messages call it; relative schema paths are resolved from `dir`.
function checkText(name, text, dir, schemas) {
  const problems = [];
  const firstLine = text.split('\n', 1)[0].replace(/\r$/, '');
  if (!MODELINE.test(firstLine)) {
    problems.push(
      `${name}:1: the first line must be a modeline ` +
        `"# yaml-language-server: $schema=PATH/TO/SCHEMA.json", got ${JSON.stringify(firstLine)}`
    );
    return problems;
  }
  const docs = YAML.parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length === 0) {
    problems.push(`${name}: no YAML document`);
    return problems;
  }
  const headers = documentHeaderComments(text);
  docs.forEach((doc, i) => {
    if (doc.errors.length) {
      problems.push(`${name}: document ${i}: malformed YAML: ${doc.errors[0].message}`);
      return;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) return;  // an empty document
    const what = describeDocument(i, value);
    const schemaPath = schemaOfHeader(headers[i] || []);
    if (!schemaPath) {
      problems.push(
        `${name}: ${what}: no modeline in its leading comments; editors check a document only ` +
          'when one precedes it: repeat the modeline after "---"'
      );
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(schemaPath)) {
      problems.push(`${name}: ${what}: the modeline must name the schema by a relative path, ` +
                    `got ${schemaPath}`);
      return;
    }
    let validate;
    try {
      validate = schemas.validator(path.resolve(dir, schemaPath));
    } catch (e) {
      problems.push(`${name}: ${what}: schema ${schemaPath}: ${e.message}`);
      return;
    }
    if (!validate(value)) {
      problems.push(
        `${name}: ${what}: does not match ${schemaPath}:\n` +
          validate.errors.map(formatAjvError).join('\n')
      );
    }
  });
  return problems;
}

function yamlFiles(arg) {
  const stat = fs.statSync(arg);
  if (!stat.isDirectory()) return [arg];
  return fs
    .readdirSync(arg, {withFileTypes: true})
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const p = path.join(arg, entry.name);
      if (entry.isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(entry.name) ? [p] : [];
    });
}

function withModeline(schemaPath, body) {
  return `# yaml-language-server: $schema=${schemaPath}\n${body}`;
}

// Negative cases made from the checked files: each must be rejected with the
// expected problem. Returns the failures (empty when every case was rejected).
function negativeCases(files, schemas) {
  const documents = [];  // {value, schema}: every resource of the checked files
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const schema = path.resolve(path.dirname(file), MODELINE.exec(text.split('\n', 1)[0])[1]);
    for (const doc of YAML.parseAllDocuments(text)) {
      const value = doc.toJS();
      if (value) documents.push({value, schema});
    }
  }
  const cases = [];
  const first = files[0];
  const firstText = fs.readFileSync(first, 'utf8');
  cases.push({
    what: 'a file without its modeline',
    text: firstText.split('\n').slice(1).join('\n'),
    dir: path.dirname(first),
    expect: 'the first line must be a modeline',
  });
  const broken = JSON.parse(JSON.stringify(documents[0].value));
  broken.bogusField = true;
  cases.push({
    what: 'a document with an unknown field',
    text: withModeline(path.basename(documents[0].schema), YAML.stringify(broken)),
    dir: path.dirname(documents[0].schema),
    expect: '"additionalProperty":"bogusField"',
  });
  cases.push({
    what: 'a second document without a modeline',
    text: withModeline(path.basename(documents[0].schema),
                       YAML.stringify(documents[0].value) + '---\n' +
                           YAML.stringify(documents[0].value)),
    dir: path.dirname(documents[0].schema),
    expect: 'document 1',
  });
  // The combined schema must dispatch on kind: every resource passes it, and
  // one relabelled as the other kind fails on its fields.
  const combined = path.basename(COMBINED_SCHEMA);
  const stream = documents
    .map((d) => withModeline(combined, YAML.stringify(d.value)))
    .join('---\n');
  const valid = checkText('(every resource under the combined schema)', stream,
                          path.dirname(COMBINED_SCHEMA), schemas);
  const failures = valid.map((p) => `the combined schema rejects a valid resource: ${p}`);
  for (const [from, to] of [['Route', 'ServiceCluster'], ['ServiceCluster', 'Route']]) {
    const doc = documents.find((d) => d.value.kind === from);
    if (!doc) continue;
    cases.push({
      what: `a ${from} relabelled ${to} under the combined schema`,
      text: withModeline(combined, YAML.stringify({...doc.value, kind: to})),
      dir: path.dirname(COMBINED_SCHEMA),
      expect: 'does not match',
    });
  }
  for (const c of cases) {
    const problems = checkText(`(${c.what})`, c.text, c.dir, schemas);
    if (!problems.some((p) => p.includes(c.expect))) {
      failures.push(`negative case not rejected as expected (${c.expect}): ${c.what}` +
                    (problems.length ? `; got:\n${problems.join('\n')}` : ''));
    }
  }
  return {failures, resources: documents.length, cases: cases.length};
}

function main(args) {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    console.error('usage: check_modelines.js FILE|DIR...');
    return 2;
  }
  let files;
  try {
    files = args.flatMap(yamlFiles);
  } catch (e) {
    console.error(`check_modelines: ${e.message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`check_modelines: no .yaml or .yml file under ${args.join(' ')}`);
    return 2;
  }
  const schemas = new Schemas();
  let documents = 0;
  const problems = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    documents += YAML.parseAllDocuments(text).length;
    problems.push(...checkText(file, text, path.dirname(file), schemas));
  }
  for (const p of problems) console.log(`FAIL ${p}`);
  if (problems.length) {
    console.log(`check_modelines: ${problems.length} problem(s) in ${files.length} files`);
    return 1;
  }
  console.log(`check_modelines: ${files.length} files, ${documents} documents valid`);
  const negative = negativeCases(files, schemas);
  for (const f of negative.failures) console.log(`FAIL ${f}`);
  if (negative.failures.length) return 1;
  console.log(`check_modelines: the combined schema accepts all ${negative.resources} resources; ` +
              `${negative.cases} negative cases rejected as expected`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
