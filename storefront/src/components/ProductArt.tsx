import type { CSSProperties } from 'react';

/** The catalogue has no images: each product gets a tile in a colour of its own, with its initials. */
export function ProductArt({ name, large = false }: { name: string; large?: boolean }) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  const initials = name
    .split(/\s+/)
    .filter((word) => /^[\p{L}\p{N}]/u.test(word))
    .slice(0, 2)
    .map((word) => word[0]!.toUpperCase())
    .join('');
  return (
    <div className={large ? 'art art-large' : 'art'} style={{ '--hue': Math.abs(hash) % 360 } as CSSProperties} aria-hidden="true">
      {initials}
    </div>
  );
}
