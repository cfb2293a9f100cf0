/**
 * Playwright 1.63 can raise "Cannot find parent object page@… to create disposable@…" or "Object with
 * guid disposable@… was not bound in the connection" outside any promise this code holds: the reply to
 * a page's `addInitScript`/`exposeBinding` arrives after the page closed. Seen in 3 of ~40 runs aborted while their page crawler was opening pages
 * (test/e2e-platform-workers.test.ts): the process died at once with exit 1, no report, storages left.
 * That one error is about a page already gone, so it is logged and the run goes on; every other
 * uncaught error still ends the process as Node would (stack on stderr, exit 1).
 */
import { log } from '@crawlee/core';

// Both forms seen (the second in a CI run): a `disposable@…` object of a page that is already gone.
const CLOSED_PAGE_RACE =
    /Cannot find parent object \S+ to create disposable@|Object with guid disposable@\S+ was not bound/;

/** Whether an uncaught error is Playwright's reply for a closed page. Pure. */
export const isClosedPageRace = (error: unknown): boolean =>
    error instanceof Error && CLOSED_PAGE_RACE.test(error.message);

let installed = false;

export function tolerateClosedPageRaces(): void {
    if (installed) return;
    installed = true;
    const handle = (error: unknown): void => {
        if (isClosedPageRace(error)) {
            log.debug(`Ignored a Playwright reply for a page already closed: ${(error as Error).message}`);
            return;
        }
        process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
        process.exit(1);
    };
    process.on('uncaughtException', handle);
    process.on('unhandledRejection', handle);
}
