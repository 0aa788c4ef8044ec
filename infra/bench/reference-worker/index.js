// The reference design of issue 9, in plain JavaScript: `make load` runs it beside the hub on
// the same runner, storage and receiver, so the hub's figures read against what the runtime
// itself allows on this machine for the same durable work per message.
//
// Ingest: archive put (R2) and outbox insert (a Durable Object with SQLite storage), both
// awaited before the 202. The outbox pushes each row as soon as it is stored, deletes it on a
// 2xx, and leaves failures to its alarm (retry after RETRY_MS). No authentication, routing or
// validation: the hub does all of those on top.
import { DurableObject } from "cloudflare:workers";

const RETRY_MS = 5000;

export class Outbox extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, due INTEGER NOT NULL)");
  }

  async put(id, body) {
    this.ctx.storage.sql.exec("INSERT INTO jobs (id, body, due) VALUES (?, ?, ?)", id, body, Date.now() + RETRY_MS);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    this.ctx.waitUntil(this.push(id, body));
  }

  async push(id, body) {
    try {
      const r = await fetch(this.env.TARGET, { method: "POST", body, headers: { "content-type": "application/json" }, redirect: "manual" });
      await r.arrayBuffer();
      if (r.ok) this.ctx.storage.sql.exec("DELETE FROM jobs WHERE id = ?", id);
    } catch {
      // the alarm retries it
    }
  }

  async alarm() {
    const due = [...this.ctx.storage.sql.exec("SELECT id, body FROM jobs WHERE due <= ? LIMIT 100", Date.now())];
    for (const { id } of due) this.ctx.storage.sql.exec("UPDATE jobs SET due = ? WHERE id = ?", Date.now() + RETRY_MS, id);
    await Promise.all(due.map(({ id, body }) => this.push(id, body)));
    const left = [...this.ctx.storage.sql.exec("SELECT MIN(due) AS next FROM jobs")][0].next;
    if (left !== null) await this.ctx.storage.setAlarm(Math.max(left, Date.now() + 100));
  }
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("", { status: 404 });
    const body = await request.text();
    const id = crypto.randomUUID();
    const outbox = env.OUTBOX.get(env.OUTBOX.idFromName("outbox-0"));
    await Promise.all([env.ARCHIVE.put(`archive/${id}`, body), outbox.put(id, body)]);
    return new Response("", { status: 202 });
  },
};
