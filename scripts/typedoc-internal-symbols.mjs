// A TypeDoc plugin for the API reference (npm run docs:api). Layers of gamewire call each other through
// members keyed by module-private symbols (`[kFlush]`, `[kAttach]`, ...), so that no name is taken from
// game code; they are internal by that convention, and this keeps them out of the reference, as the
// `@internal` tag keeps anything else out.
import { Converter, ReflectionKind } from 'typedoc';

const SYMBOL_MEMBER = /^\[k[A-Z]\w*\]$/;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    const kinds = ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor;
    for (const reflection of project.getReflectionsByKind(kinds)) {
      if (SYMBOL_MEMBER.test(reflection.name)) project.removeReflection(reflection);
    }
  });
}
