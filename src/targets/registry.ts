// The targets the bot serves, looked up by what people type (`new <command>`, `rotate <id>`,
// `check <id>`) and by the type a stored request names. The app builds one registry and hands it
// to the workflow and the channels; a test can add a target of its own without touching any other file.
import { type AnyTarget, isFleet, type Target } from './types';

/** `Microsoft.Chaos/experiments` from `/subscriptions/…/providers/Microsoft.Chaos/experiments/name…`. */
export function resourceTypeOf(resourceId: string): string {
  return resourceId.split('/').slice(6, 8).join('/');
}

export class TargetRegistry {
  private readonly byType = new Map<string, AnyTarget>();

  constructor(readonly all: readonly AnyTarget[]) {
    for (const t of all) {
      if (this.byType.has(t.type)) throw new Error(`Two targets have the type ${t.type}.`);
      this.byType.set(t.type, t);
    }
    const commands = all.map((t) => t.entry.command).filter((c): c is string => !!c);
    const twice = commands.find((c, i) => commands.indexOf(c) !== i);
    if (twice) throw new Error(`Two targets answer \`new ${twice}\`.`);
    const rotated = all.map((t) => t.entry.rotates?.toLowerCase()).filter((c): c is string => !!c);
    const both = rotated.find((c, i) => rotated.indexOf(c) !== i);
    if (both) throw new Error(`Two targets answer \`rotate\` for ${both}.`);
  }

  /** The target a stored request or a card names; own names only (never `constructor`, `__proto__`). */
  find(type: string): AnyTarget | undefined {
    return this.byType.get(type);
  }

  /** The single-resource target of that type (a fleet's members are written by these). */
  single(type: string): Target | undefined {
    const t = this.byType.get(type);
    return t && !isFleet(t) ? t : undefined;
  }

  /** The single-resource targets, in order. */
  singles(): Target[] {
    return this.all.filter((t): t is Target => !isFleet(t));
  }

  /** The target of `new <command>`. */
  forCommand(command: string): AnyTarget | undefined {
    return this.all.find((t) => t.entry.command === command.toLowerCase());
  }

  /** The words `new` takes, in order. */
  commands(): string[] {
    return this.all.map((t) => t.entry.command).filter((c): c is string => !!c);
  }

  /** The target whose form `rotate <resource id>` opens for this resource type. */
  forRotate(resourceType: string): Target | undefined {
    return this.singles().find((t) => t.entry.rotates?.toLowerCase() === resourceType.toLowerCase());
  }

  /** The resource types `rotate` knows. */
  rotatable(): string[] {
    return this.all.map((t) => t.entry.rotates).filter((c): c is string => !!c);
  }

  /** The target that reviews an existing resource of this type (`check <resource id>`): the first that handles it. */
  forReview(resourceType: string): Target | undefined {
    return this.singles().find((t) => t.reviews !== false && t.resourceType.toLowerCase() === resourceType.toLowerCase());
  }

  /** A registry with these targets added (tests, and services added by configuration). */
  with(...more: AnyTarget[]): TargetRegistry {
    return new TargetRegistry([...this.all, ...more]);
  }
}
