/** The console's pages and their paths (deep-linkable: the agent serves the app at each). */
export const PAGES = [
  { path: '/', id: 'overview', title: 'Overview' },
  { path: '/sensors', id: 'sensors', title: 'Sensors' },
  { path: '/gpio', id: 'gpio', title: 'GPIO' },
  { path: '/updates', id: 'updates', title: 'Updates' },
  { path: '/attestation', id: 'attestation', title: 'Attestation' },
  { path: '/edgeready', id: 'edgeready', title: 'EdgeReady' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

/** The page for a location path; unknown paths show the overview. */
export function pageOf(pathname: string): PageId {
  const p = pathname.replace(/\/+$/, '') || '/';
  return PAGES.find((x) => x.path === p)?.id ?? 'overview';
}
