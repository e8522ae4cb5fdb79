import type { Project } from '@playwright/test';

/** The `chromium` project on Debian's /usr/bin/chromium. */
export declare const debianChromium: Project;
