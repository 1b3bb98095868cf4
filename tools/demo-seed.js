// SPDX-License-Identifier: GPL-3.0-or-later
//
// Seeds the demo's two servers from generated records on standard input
// (primero-sync-generate output): every record goes to both, then of each
// record's conflicting leaves the first goes to this instance and the
// others to the field office, as if both had edited the same case.
'use strict';

const http = require('http');
const [thisInstance, fieldOffice] = process.argv.slice(2);

function post (url, docs) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ new_edits: false, docs });
    const request = http.request(url + '/_bulk_docs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }
    }, (response) => {
      response.resume();
      response.on('end', () => response.statusCode < 300 ? resolve() : reject(new Error(url + ': ' + response.statusCode)));
    });
    request.on('error', reject);
    request.end(body);
  });
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const seen = new Map();
  const both = [];
  const mine = [];
  const theirs = [];

  for (const line of input.split('\n')) {
    if (!line)
      continue;
    const doc = JSON.parse(line);
    const leaves = seen.get(doc._id);
    if (leaves === undefined) {
      seen.set(doc._id, 0);
      both.push(doc);
    } else {
      (leaves === 0 ? mine : theirs).push(doc);
      seen.set(doc._id, leaves + 1);
    }
  }

  try {
    await post(thisInstance, both);
    await post(fieldOffice, both);
    await post(thisInstance, mine);
    await post(fieldOffice, theirs);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
});
