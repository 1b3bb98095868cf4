#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// One-shot replication with PouchDB's own replicator and its default
// options, the reference replication-bench compares against.
//
//   node bench/pouch-replicate.js SOURCE_URL TARGET_URL
//
// Prints {"ok","docs_read","docs_written","doc_write_failures","elapsed_ms"}
// on stdout; exits 1 when the replication fails.
'use strict';

const path = require('path');

const modules = process.env.PS_NODE_MODULES ||
  path.join(__dirname, '..', 'tests', 'node_modules');

function main() {
  const [source, target] = process.argv.slice(2);

  if (!source || !target) {
    process.stderr.write('usage: pouch-replicate.js SOURCE_URL TARGET_URL\n');
    process.exit(2);
  }

  let PouchDB;
  try {
    PouchDB = require(path.join(modules, 'pouchdb'));
  } catch (error) {
    process.stderr.write(`cannot load pouchdb from ${modules}: ${error.message}\n` +
                         'run tools/install-deps\n');
    process.exit(2);
  }

  const started = process.hrtime.bigint();
  PouchDB.replicate(source, target).then((info) => {
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(JSON.stringify({
      ok: info.ok,
      docs_read: info.docs_read,
      docs_written: info.docs_written,
      doc_write_failures: info.doc_write_failures,
      elapsed_ms: Math.round(elapsed),
    }) + '\n');
    process.exit(info.ok && info.doc_write_failures === 0 ? 0 : 1);
  }, (error) => {
    process.stderr.write(`replication failed: ${error && (error.message || error.reason) || error}\n`);
    process.exit(1);
  });
}

main();
