// How the tests start headless Debian Chromium on a machine without internet.
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.REFIGURE_CHROMIUM ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying hosts it cannot reach.
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchChromium() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}
