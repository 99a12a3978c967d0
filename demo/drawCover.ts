import { seededRandom } from './seededRandom';

/** Cover images' side in pixels: small, so a handful of covers fill the demo's deliberately tiny artwork budget. */
const SIZE = 96;

/**
 * A generated cover for an album, as a PNG Blob: what a player would fetch from an artwork API, drawn
 * here instead (the demo has no network). The same album always gets the same picture.
 */
export async function drawCover(artist: string, album: string): Promise<Blob> {
  const random = seededRandom(`cover:${artist}\u0000${album}`);
  const canvas = new OffscreenCanvas(SIZE, SIZE);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas here');
  const hue = Math.floor(random() * 360);
  context.fillStyle = `hsl(${hue} 55% 35%)`;
  context.fillRect(0, 0, SIZE, SIZE);
  for (let i = 0; i < 6; i++) {
    context.fillStyle = `hsl(${(hue + 40 + random() * 120) % 360} 70% ${40 + random() * 40}% / 0.7)`;
    context.beginPath();
    context.arc(random() * SIZE, random() * SIZE, 8 + random() * 30, 0, 2 * Math.PI);
    context.fill();
  }
  context.fillStyle = 'white';
  context.font = `bold ${SIZE / 4}px sans-serif`;
  context.fillText(initials(album), 8, SIZE - 10);
  return canvas.convertToBlob({ type: 'image/png' });
}

function initials(text: string): string {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase() ?? '')
    .join('');
}
