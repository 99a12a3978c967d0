/** Bytes for people, in binary units ("512 B", "23.4 KiB", "1.2 MiB"), like the budgets (maxSizeMb × 2²⁰). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 ** 2) return `${trim(bytes / 1024)} KiB`;
  return `${trim(bytes / 1024 ** 2)} MiB`;
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}
