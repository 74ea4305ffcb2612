// Which files count as images, and the order the image quick pick offers them in.

/** The raster formats Refigure renders against; SVG figures can be picked but not yet compared. */
export const rasterImageExtensions = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'] as const;
export const imageExtensions = [...rasterImageExtensions, 'svg'] as const;

/** Glob for `workspace.findFiles`. */
export const imageGlob = `**/*.{${imageExtensions.join(',')}}`;

/** Folders never worth offering images from. */
export const imagePickExclude = '**/{node_modules,.git,dist,out,.refigure-tools}/**';

export function isImagePath(path: string): boolean {
  return hasExtension(path, imageExtensions);
}

export function isRasterImagePath(path: string): boolean {
  return hasExtension(path, rasterImageExtensions);
}

function hasExtension(path: string, extensions: readonly string[]): boolean {
  const dot = path.lastIndexOf('.');
  if (dot === -1 || dot < path.lastIndexOf('/')) return false;
  return extensions.includes(path.slice(dot + 1).toLowerCase());
}

export interface ImageCandidate {
  /** Absolute path (or URI string) of the file. */
  path: string;
  /** Path shown to the user, relative to the workspace. */
  label: string;
  mtimeMs: number;
}

/** Most recently modified first; equal times by label so the order is stable. Non-images are dropped. */
export function orderImagePicks<T extends ImageCandidate>(candidates: readonly T[]): T[] {
  return candidates
    .filter((c) => isImagePath(c.path))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || a.label.localeCompare(b.label));
}
