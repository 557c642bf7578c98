/** Flags for Debian's Chromium in the browser tests (headless, as root, on a network that reaches nothing outside). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium keeps calling Google's services, which this network does not reach.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
