/**
 * The download queue's routes: requests are dispatched by their label (Crawlee's router), each route
 * with its own typed `userData`. Unit requests (`UNITS_LABEL`) go to the scheduler, which fetches with
 * the unit fetcher; image requests carry no label and go to the image saver (the default route).
 */
import { createFileRouter, type FileDownloadCrawlingContext } from '@crawlee/http';
import type { Request } from '@crawlee/core';
import type { ImageTask, UnitsTask } from '../model.js';
import type { Connection } from './connections.js';
import type { DownloadScheduler } from './scheduler.js';
import type { TransferStats } from './stats.js';
import type { StreamedResponse, UnitFetcher } from './unit-fetcher.js';
import { UNITS_LABEL } from './unit-tasks.js';

/** Label → `userData` of the queue's labelled requests. */
export interface DownloadRoutes {
    [UNITS_LABEL]: UnitsTask;
}

/** Where image requests go (`ImageSaver`): resolves to the bytes received. */
export interface ImageRoute {
    handle(ctx: FileDownloadCrawlingContext, open: () => Promise<StreamedResponse>): Promise<number>;
    failed(ctx: FileDownloadCrawlingContext, error: Error): Promise<void>;
}

export interface RouteOptions {
    scheduler: DownloadScheduler;
    fetcher: UnitFetcher;
    stats: TransferStats;
    /** The run's connection limit: an image is fetched on one (units take theirs in the scheduler). */
    connection: Connection;
    images?: ImageRoute;
}

/** A request of the units route, told by its label and the shape of its `userData`. */
export function isUnitsRequest(request: Request): request is Request<UnitsTask> {
    const data: Partial<Record<keyof UnitsTask, unknown>> = request.userData;
    return request.label === UNITS_LABEL && typeof data.videoId === 'string' && Array.isArray(data.units);
}

/** Counts a fetch (a unit, an image) as a connection in use while it runs, and its bytes when it ends. */
async function counted(stats: TransferStats, run: () => Promise<number>): Promise<number> {
    stats.started();
    let bytes = 0;
    try {
        bytes = await run();
        return bytes;
    } finally {
        stats.finished(bytes);
    }
}

export function createDownloadRouter({ scheduler, fetcher, stats, connection, images }: RouteOptions) {
    const router = createFileRouter<FileDownloadCrawlingContext, DownloadRoutes>();
    router.addHandler(UNITS_LABEL, async ({ request, proxyInfo }) => {
        await scheduler.run(request.userData, request.uniqueKey, (job, unit) =>
            counted(stats, () => fetcher.fetch(job, unit, proxyInfo?.url)),
        );
    });
    router.addDefaultHandler<ImageTask>(async (ctx) => {
        await connection(() =>
            counted(stats, async () => {
                if (!images) return 0;
                const { request, proxyInfo } = ctx;
                const { pageUrl, proxySession } = request.userData;
                const from = { headers: request.headers, proxySession, proxyUrl: proxyInfo?.url, pageUrl };
                return images.handle(ctx, () => fetcher.open(request.url, from));
            }),
        );
    });
    return router;
}
