import { buildShare } from './build.mjs';

export default async function globalSetup() {
  await buildShare();
}
