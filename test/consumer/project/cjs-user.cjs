// A CommonJS user: gamewire is ESM-only, so it is loaded with import(), as the README says.
async function main() {
  const { ServerService, Room } = await import('gamewire');
  const { defineBot } = await import('gamewire/loadtest');
  let requireError = 'none';
  try {
    require('gamewire');
  } catch (error) {
    requireError = error.code;
  }
  console.log([typeof ServerService, typeof Room, typeof defineBot, requireError].join(' '));
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
