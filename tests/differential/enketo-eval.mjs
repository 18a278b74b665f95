// SPDX-License-Identifier: GPL-3.0-or-later
//
// enketo-eval.mjs: evaluates the cases of cases.json with Enketo's XPath
// evaluator (npm openrosa-xpath-evaluator over jsdom), as the oracle of
// tests/test-xpath-differential.c.
//
// Usage: node enketo-eval.mjs MODULES_DIR CASES_JSON
//   MODULES_DIR: the folder whose node_modules holds the packages of
//   package-lock.json (the test installs them into the build folder, never
//   into the source tree).
//
// Prints one JSON document on stdout:
//   { "enketo": "<version>", "results": [ {"value": "..."} | {"error": "..."}, ... ] }
// in the order of the cases. Exit status 77 means "cannot run here" (node too
// old, packages missing): the test skips. Anything else non-zero is a failure.
//
// Enketo evaluates over one model document, <model><instance>primary
// </instance><instance id="x">secondary</instance>...</model>, and rewrites
// expressions before evaluating them, as enketo-core's FormModel does:
// instance('x') becomes /model/instance[@id="x"] (replaceInstanceFn) and an
// absolute path into the primary instance gets /model/instance[1] in front
// (shiftRoot). The cases are written for Hearth, whose instances are separate
// documents, and this script applies the same two rewrites.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const SKIP = 77;

function skip(message) {
    process.stderr.write(`enketo-eval: ${message}\n`);
    process.exit(SKIP);
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 18) skip(`node ${process.versions.node} is older than 18, which jsdom needs`);
if (process.argv.length !== 4) {
    process.stderr.write('usage: node enketo-eval.mjs MODULES_DIR CASES_JSON\n');
    process.exit(2);
}
const [modulesDir, casesPath] = process.argv.slice(2);

let JSDOM;
let orxe;
let enketoVersion;
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
try {
    ({ JSDOM } = require('jsdom'));
    enketoVersion = require('openrosa-xpath-evaluator/package.json').version;
} catch (e) {
    skip(`cannot load jsdom or openrosa-xpath-evaluator from ${modulesDir}: ${e.message}`);
}

const { window } = new JSDOM('');

// The evaluator expects a browser's globals.
for (const name of ['XPathResult', 'Node', 'Element', 'Attr', 'Document', 'DOMParser']) {
    globalThis[name] = window[name];
}

// Browsers default XPathExpression.evaluate()'s result type to ANY_TYPE;
// jsdom requires it, and the evaluator calls expression.evaluate(node) with
// the node alone for a path that continues a node-set. Supply the browser's
// defaults and nothing else.
class BrowserXPathEvaluator extends window.XPathEvaluator {
    createExpression(expression, resolver) {
        const compiled = super.createExpression(expression, resolver);
        return {
            evaluate: (node, type = window.XPathResult.ANY_TYPE, result = null) =>
                compiled.evaluate(node, type, result),
        };
    }
}
globalThis.XPathEvaluator = BrowserXPathEvaluator;

try {
    orxe = require('openrosa-xpath-evaluator');
} catch (e) {
    skip(`cannot load openrosa-xpath-evaluator: ${e.message}`);
}

const spec = JSON.parse(readFileSync(casesPath, 'utf8'));
const joinXml = (x) => (Array.isArray(x) ? x.join('') : x);

let modelXml = `<model><instance>${joinXml(spec.primary)}</instance>`;
for (const [id, xml] of Object.entries(spec.secondary)) {
    modelXml += `<instance id="${id}">${joinXml(xml)}</instance>`;
}
modelXml += '</model>';

const doc = new window.DOMParser().parseFromString(modelXml, 'text/xml');
if (doc.getElementsByTagName('parsererror').length > 0) {
    process.stderr.write('enketo-eval: the instances in cases.json are not well-formed XML\n');
    process.exit(1);
}
const rootName = doc.documentElement.firstElementChild.firstElementChild.nodeName;

// enketo-core's replaceInstanceFn (on the whole expression, as there) and
// shiftRoot (outside string literals).
const shiftRe = new RegExp(`(^|[^A-Za-z0-9_.\\])*/@:])/${rootName}(?![A-Za-z0-9_.-])`, 'g');
function rewrite(expr) {
    return expr
        .replace(
            /instance\(\s*(["'])([A-Za-z0-9._-]+)\1\s*\)/g,
            (m, q, id) => `/model/instance[@id="${id}"]`
        )
        .split(/('[^']*'|"[^"]*")/)
        .map((part, i) =>
            // An absolute path into the primary instance: "/data" that
            // continues neither a path nor a name.
            i % 2 === 1 ? part : part.replace(shiftRe, (m, before) => `${before}/model/instance[1]/${rootName}`)
        )
        .join('');
}

const evaluator = orxe();
const { XPathResult } = window;

function evaluate(expr, context) {
    return evaluator.evaluate(rewrite(expr), context, null, XPathResult.STRING_TYPE, null).stringValue;
}

const primaryRoot = doc.evaluate(
    `/model/instance[1]/${rootName}`, doc, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null
).singleNodeValue;

const results = spec.cases.map((c) => {
    try {
        let context = primaryRoot;
        if (c.context) {
            const r = evaluator.evaluate(
                rewrite(c.context), primaryRoot, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null
            );
            context = r.singleNodeValue;
            if (!context) return { error: `the context ${c.context} names no node` };
        }
        const value = evaluate(c.expr, context);
        if (typeof value !== 'string') return { error: `not a string: ${typeof value}` };
        return { value };
    } catch (e) {
        return { error: String(e && e.message ? e.message : e).slice(0, 300) };
    }
});

process.stdout.write(`${JSON.stringify({ enketo: enketoVersion, results })}\n`);
