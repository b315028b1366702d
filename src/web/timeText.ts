/** Spans and relative times as the pages show them; the dashboard's script ticks them with the same rule. */
/** "2 d 3 h", "1 h 5 min", "4 min 09 s", "12 s": the same rule as the page's script. */
export function formatSpan(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${seconds} s`;
}

export function countdownText(deadlineIso: string, now: Date): string {
  const ms = Date.parse(deadlineIso) - now.getTime();
  return ms > 0 ? `in ${formatSpan(ms)}` : `${formatSpan(ms)} overdue`;
}

export function agoText(iso: string, now: Date): string {
  return `${formatSpan(now.getTime() - Date.parse(iso))} ago`;
}
