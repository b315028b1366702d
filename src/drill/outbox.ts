/**
 * The drill's outbox folder: every email the sandbox received, as an .eml to open in a mail
 * client and an .html to open in a browser. File names sort in the order the emails went out.
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { toEml } from "./eml";
import type { DrillEmail } from "./runScenario";

/** What the drill writes, and so the only files it removes from an earlier run. */
const DRILL_FILE = /^\d{4,}-[a-z0-9-]+\.(eml|html)$/;

export interface WrittenOutbox {
  dir: string;
  /** File stems (without extension) in send order; each has an .eml and an .html. */
  stems: string[];
}

/** "0010-orders-db-revoked": minute, account, kind; a repeat in the same minute gets "-2". */
export function outboxFileStems(emails: readonly DrillEmail[], durationMinutes: number): string[] {
  const width = Math.max(4, String(durationMinutes).length);
  const used = new Set<string>();
  return emails.map((email) => {
    const account =
      email.account
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "") || "account";
    const base = `${String(email.atMinute).padStart(width, "0")}-${account}-${email.kind ?? "email"}`;
    let stem = base;
    for (let n = 2; used.has(stem); n++) stem = `${base}-${n}`;
    used.add(stem);
    return stem;
  });
}

/** Replaces the drill files in `dir` (creating it) with these emails; other files are left alone. */
export async function writeOutbox(dir: string, emails: readonly DrillEmail[], durationMinutes: number): Promise<WrittenOutbox> {
  const absolute = path.resolve(dir);
  await mkdir(absolute, { recursive: true });
  for (const name of await readdir(absolute)) {
    if (DRILL_FILE.test(name)) await rm(path.join(absolute, name), { force: true });
  }
  const stems = outboxFileStems(emails, durationMinutes);
  await Promise.all(
    emails.map(async (drillEmail, index) => {
      const { email } = drillEmail;
      const stem = stems[index]!;
      const html = email.html ?? `<!DOCTYPE html><meta charset="utf-8"><pre>${escapeHtml(email.plainText ?? "")}</pre>`;
      const eml = toEml({
        date: drillEmail.at,
        from: email.senderAddress,
        to: email.to,
        cc: email.cc,
        subject: email.subject,
        ...(email.plainText !== undefined ? { text: email.plainText } : {}),
        html,
        messageId: email.operationId,
        extraHeaders: email.headers,
      });
      await writeFile(path.join(absolute, `${stem}.eml`), eml, "utf8");
      await writeFile(path.join(absolute, `${stem}.html`), html, "utf8");
    }),
  );
  return { dir: absolute, stems };
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
