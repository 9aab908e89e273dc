/** The virtiofs/9p leg of HostGuestShare: the directory passed to the libvirt domain, then the guest's mount of its tag. */
import * as pulumi from "@pulumi/pulumi";
import { VirtioFsPassthrough } from "../guest";
import { defaultTag } from "./hostGuestShareArgs";
import { guestMountOf, Leg, LegContext } from "./leg";

export function passthroughLeg(ctx: LegContext): Leg {
  const { name, args } = ctx;
  const { tag: givenTag, filesystem, ninepMount, ...domain } = args.virtiofs!;
  const tag = givenTag ?? defaultTag(name);
  const driver = args.protocol === "9p" ? "9p" : "virtiofs";
  const passthrough = ctx.done(
    new VirtioFsPassthrough(`${name}-passthrough`, { ...domain, connection: args.host, filesystems: [{ ...(filesystem ?? {}), source: ctx.hostPath, tag, driver }] }, ctx.after()),
  );
  const mount = guestMountOf(ctx, driver === "9p" ? { ninep: { ...(ninepMount ?? {}), tag } } : { virtiofs: { tag } });
  return { exportPath: pulumi.output(tag), mount, restartNeeded: passthrough.restartNeeded, children: { passthrough } };
}
