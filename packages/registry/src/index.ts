export type { AuthChallenge } from './authChallenge.ts';
export { parseAuthChallenge } from './authChallenge.ts';
export type { Repository } from './blobs.ts';
export { fetchBlob, hasBlob, mountBlob } from './blobs.ts';
export { azureCredentials } from './cloud/azureCredentials.ts';
export { ecrCredentials } from './cloud/ecrCredentials.ts';
export { withEnvironmentCredentials } from './cloud/environmentCredentials.ts';
export { googleCredentials } from './cloud/googleCredentials.ts';
export type { CreatedIndex, CreateIndexOptions, IndexEntry, PlannedIndex } from './createIndex.ts';
export { createIndex, planIndex } from './createIndex.ts';
export { runCredentialHelper } from './credentialHelper.ts';
export type {
  Credential,
  CredentialLookup,
  CredentialSource,
  LoadDockerConfigOptions,
} from './dockerConfig.ts';
export {
  credentialsFromConfig,
  dockerConfigCandidates,
  loadDockerConfig,
  normalizeRegistryKey,
  staticCredentials,
} from './dockerConfig.ts';
export type { BlobPlacement, EnsureBlobOptions } from './ensureBlob.ts';
export { ensureBlob, placeBlobAhead } from './ensureBlob.ts';
export type { RegistryEvent, RegistryEventHandler } from './events.ts';
export type { FetchedManifest } from './manifests.ts';
export { getManifest, manifestAccept, putManifest } from './manifests.ts';
export { selectPlatform } from './platform.ts';
export type { PulledImage, PullImageOptions } from './pullImage.ts';
export { mirrorReference, mirrorsOf, pullImage } from './pullImage.ts';
export type { PushableImage, PushedDestination, PushImageOptions, PushImageResult } from './pushImage.ts';
export { pushImage } from './pushImage.ts';
export { redactSecrets, registerSecret } from './redact.ts';
export type { OperationTarget, RegistryClientOptions } from './registryClient.ts';
export { createRegistryClient, RegistryClient } from './registryClient.ts';
export type { ClientCertificate, DirectionSettings, ProxySettings, TransportOptions } from './transport.ts';
export { kanikoAdditionalCaBundle } from './transport.ts';
export { uploadBlob } from './uploadBlob.ts';
