// The inventory's HTML report of an emulator tenant in a real browser (issue 16): headless Chromium (Debian's
// package) through puppeteer-core. Sorting and filtering work, the page logs no error (a script blocked by the
// page's own Content-Security-Policy would), nothing is fetched from the network, hostile tenant text stays
// text, the counts equal the CSV's; a screenshot is written for people to look at.
//
// INVENTORY_HTML, INVENTORY_CSV: the report and the CSV of the same tenant (scripts/test-browser.sh makes them);
// CHROMIUM: the browser; SCREENSHOT: where the PNG goes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const html = process.env.INVENTORY_HTML;
const csv = process.env.INVENTORY_CSV;
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT || join(tmpdir(), "entrawatch-inventory.png");

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
function csvRecords(text) {
  const records = [];
  let record = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { record.push(field); field = ""; }
    else if (c === "\n") { record.push(field); records.push(record); record = []; field = ""; }
    else field += c;
  }
  return records;
}

test("the inventory report sorts, filters, fetches nothing, logs no error and counts what the CSV has", async () => {
  assert.ok(html && csv, "INVENTORY_HTML and INVENTORY_CSV name the files");
  const records = csvRecords(readFileSync(csv, "utf8"));
  const kindColumn = records[0].indexOf("kind");
  const csvCounts = {};
  for (const r of records.slice(1)) csvCounts[r[kindColumn]] = (csvCounts[r[kindColumn]] || 0) + 1;

  const profile = mkdtempSync(join(tmpdir(), "entrawatch-chromium-"));
  // The flags this machine's closed network needs (no background connections, no QUIC), as root (no sandbox).
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1100 });
    const errors = [];
    const requests = [];
    const dialogs = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => requests.push(r.url()));
    page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    const url = pathToFileURL(html).href;
    await page.goto(url, { waitUntil: "load" });

    assert.deepEqual(requests, [url], "only the file itself: no script, style, font or image from elsewhere");

    // Counts: the page's per-kind totals are the CSV's.
    const totals = await page.$$eval("#counts td[data-count-kind]:not([data-band])", (cells) =>
      Object.fromEntries(cells.map((c) => [c.getAttribute("data-count-kind"), Number(c.textContent)])));
    for (const k of Object.keys(totals)) if (totals[k] === 0) delete totals[k];
    assert.deepEqual(totals, csvCounts);
    const total = await page.$eval("[data-total]", (e) => Number(e.textContent));
    assert.equal(total, records.length - 1);
    const bars = await page.$$eval("#activity-chart rect", (r) => r.length);
    assert.equal(bars, 24, "6 activity bands x 4 kinds");

    // For people: the page as it opens (findings first).
    await page.screenshot({ path: screenshot });
    console.log(`screenshot: ${screenshot}`);

    // Hostile names are text: no element was made from them, no script ran.
    assert.equal(await page.$$eval("img", (i) => i.length), 0);
    assert.equal(await page.$$eval("script", (s) => s.length), 1);
    assert.ok((await page.content()).includes("&lt;img src=x onerror=alert(1)&gt;"));

    const visible = () => page.$$eval("#identities tbody tr", (rows) => rows.filter((r) => !r.hidden).length);
    const all = await visible();
    assert.ok(all > 10, `${all} rows`);
    assert.equal(await page.$eval("#shown", (e) => Number(e.textContent)), all);

    // Sorting: days inactive (numeric) ascending, then descending; name (text) ascending.
    const column = async (index) => page.$$eval(
      "#identities tbody tr",
      (rows, i) => rows.map((r) => r.cells[i].getAttribute("data-sort") ?? r.cells[i].textContent),
      index);
    const headers = await page.$$eval("#identities thead th", (h) => h.map((x) => x.textContent));
    const days = headers.indexOf("days inactive");
    await page.click(`#identities thead th:nth-child(${days + 1})`);
    let values = (await column(days)).map(Number);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), "ascending");
    assert.equal(await page.$eval(`#identities thead th:nth-child(${days + 1})`, (h) => h.getAttribute("aria-sort")), "ascending");
    await page.click(`#identities thead th:nth-child(${days + 1})`);
    values = (await column(days)).map(Number);
    assert.deepEqual(values, [...values].sort((a, b) => b - a), "descending");
    const name = headers.indexOf("name");
    await page.click(`#identities thead th:nth-child(${name + 1})`);
    const names = (await column(name)).map((n) => n.toLowerCase());
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), "names ascending");

    // Filtering: by kind, then by text (the hostile guest by a word of its name).
    await page.select("#kind", "guest");
    const kinds = await page.$$eval("#identities tbody tr", (rows) =>
      rows.filter((r) => !r.hidden).map((r) => r.getAttribute("data-kind")));
    assert.ok(kinds.length > 0 && kinds.length < all && kinds.every((k) => k === "guest"), kinds.join());
    assert.equal(await page.$eval("#shown", (e) => Number(e.textContent)), kinds.length);
    await page.type("#filter", "onerror");
    assert.equal(await visible(), 1);
    await page.select("#kind", "");
    await page.click("#filter", { clickCount: 3 });
    await page.keyboard.press("Backspace");
    assert.equal(await visible(), all, "clearing the filter shows every row again");

    assert.deepEqual(dialogs, [], "no script from the tenant ran");
    assert.deepEqual(errors, [], "no console error");
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
