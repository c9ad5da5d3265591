import memory from "unstorage/drivers/memory";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import s3Driver from "../../src/drivers/s3/index.ts";
import { createQueuedStorage, queuedDriver } from "../../src/index.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { serveWorld, type ServeWorld } from "../serve/_world.ts";

// url(key): the local tier's URL until the transfer is done, then the remote's (presigned by our S3 driver).

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver({ bucket: "url-test" });
});
afterAll(async () => {
  await s3?.stop();
});
const worlds: ServeWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.dispose();
});

describe("url(key)", () => {
  it("answers localUrl + key path until the transfer is done, then a presigned S3 URL that serves the bytes", async () => {
    const world = await serveWorld(s3);
    worlds.push(world);
    const { storage } = world;
    await storage.setItem("avatars:jane doe.txt", "hello");
    expect(await storage.url("avatars:jane doe.txt")).toBe("/files/avatars/jane%20doe.txt");
    await storage.transferNow("avatars:jane doe.txt");
    const url = new URL(await storage.url("avatars:jane doe.txt", { expiresIn: 120, contentDisposition: 'attachment; filename="jane.txt"' }));
    expect(url.origin).toBe(s3.endpoint);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("120");
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="jane.txt"');
    // A new write makes the local copy current again: the URL follows.
    await storage.setItem("avatars:jane doe.txt", "hello again");
    expect(await storage.url("avatars:jane doe.txt")).toBe("/files/avatars/jane%20doe.txt");
  });

  it("localUrl and remoteUrl may be functions of the key, tier and generation; remoteUrl wins over the driver's URL", async () => {
    const world = await serveWorld(s3, {
      localUrl: (key, { generation, tier }) => `/raw/${key}?v=${generation}&t=${tier}`,
      remoteUrl: "https://cdn.example.com/u",
    });
    worlds.push(world);
    const { storage } = world;
    await storage.setItem("a:b", "x");
    const { generation } = (await storage.status("a:b"))!;
    expect(await storage.url("a:b")).toBe(`/raw/a:b?v=${generation}&t=local`);
    await storage.transferNow("a:b");
    expect(await storage.url("a:b")).toBe("https://cdn.example.com/u/a/b");
  });

  it("rejects naming the key and the missing option when a tier has no URL", async () => {
    const storage = createQueuedStorage({ local: memory(), remote: memory(), delayed: true });
    await storage.setItem("k", "v");
    await expect(storage.url("k")).rejects.toThrow('url("k"): the key is on the local tier, which has no URL: set localUrl');
    await storage.transferNow("k");
    await expect(storage.url("k")).rejects.toThrow('url("k"): the key is on the remote tier, and the remote has no URL: set remoteUrl');
    await expect(storage.url("../x")).rejects.toThrow(/invalid key/);
    await storage.dispose();
  });

  it("works on the driver's controls too (queuedDriver(...).getInstance())", async () => {
    const driver = queuedDriver({ local: memory(), remote: memory(), localUrl: "https://app.example.com/files" });
    expect(await driver.getInstance!().url("x:y.png")).toBe("https://app.example.com/files/x/y.png");
  });
});

describe("drivers: s3 getUrl", () => {
  const options = { bucket: "media", accessKeyId: "id", secretAccessKey: "secret", endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1" };

  it("presigns GetObject with SigV4 query parameters, the expiry and the response overrides", async () => {
    const url = new URL(await s3Driver({ ...options, base: "up" }).getInstance!().getUrl("a b:c.png", { contentType: "image/png" }));
    expect(`${url.origin}${url.pathname}`).toBe("https://s3.eu-west-1.amazonaws.com/media/up/a%20b/c.png");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^id\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get("response-content-type")).toBe("image/png");
  });

  it("publicUrl gives unsigned URLs under that base; bad options are named", async () => {
    const driver = s3Driver({ ...options, base: "up", publicUrl: "https://cdn.example.com/" });
    expect(await driver.getInstance!().getUrl("a b:c(1).png")).toBe("https://cdn.example.com/up/a%20b/c%281%29.png");
    await expect(s3Driver({ ...options, publicUrl: "cdn" }).getInstance!().getUrl("k")).rejects.toThrow(/Option `publicUrl` is not an absolute URL: "cdn"/);
    await expect(s3Driver(options).getInstance!().getUrl("k", { expiresIn: 604_801 })).rejects.toThrow(/`expiresIn` must be a whole number of seconds from 1 to 604800/);
  });
});
