import { z } from "zod";

const labels = z.record(z.string().max(1024), z.string().max(4096));

/** Alertmanager's webhook payload, version 4 (only the fields read, plus what identifies it). */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal("4", { error: 'only Alertmanager webhook payload version "4" is read' }),
  groupKey: z.string().max(8192),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().max(1024).optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(["firing", "resolved"]),
        labels,
        annotations: labels.optional(),
        startsAt: z.iso.datetime({ offset: true }),
        /** `0001-01-01T00:00:00Z` while firing. */
        endsAt: z.string().max(64).optional(),
        fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, "fingerprint must be hex"),
      }),
    )
    .min(1)
    .max(200),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type Alert = AlertmanagerPayload["alerts"][number];

/** Alertmanager bodies exceed the API's 4 KiB (a group holds many alerts). */
export const MAX_ALERTMANAGER_BYTES = 512 * 1024;
