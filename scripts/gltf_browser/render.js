// Loads scene.glb with three.js's GLTFLoader and, for each frame in ?frames=0,36,71, poses it
// with an AnimationMixer at t / fps, renders every skinned mesh in a flat pure colour through
// the file's own camera (gltf.cameras[0]) at the shot's size, and POSTs the PNG to /frame.
// Whatever goes wrong is POSTed to /error; /done ends the run.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

// Actor k's colour: pure, so that each pixel names its actor exactly (no antialiasing, no tone mapping).
const COLOURS = [0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0xff00ff, 0x00ffff];

const post = (path, body) => fetch(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

async function main() {
  const frames = new URLSearchParams(location.search).get('frames').split(',').map(Number);
  const gltf = await new GLTFLoader().loadAsync('./scene.glb');
  const extras = gltf.parser.json.scenes[0].extras;
  const { width, height, fps } = extras;

  const actors = [];
  gltf.scene.traverse((o) => {
    if (!o.isSkinnedMesh) return;
    o.material = new THREE.MeshBasicMaterial({ color: COLOURS[actors.length % COLOURS.length] });
    o.frustumCulled = false; // three's skinned bounding sphere is computed once, for one pose
    actors.push(o.name);
  });

  const camera = gltf.cameras[0];
  camera.aspect = width / height;
  camera.updateProjectionMatrix();

  const renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height);
  renderer.setClearColor(0x000000, 1);
  renderer.toneMapping = THREE.NoToneMapping;
  document.body.appendChild(renderer.domElement);

  const scene = gltf.scene;
  const mixer = new THREE.AnimationMixer(scene);
  // Played once and held at the end: the last keyframe's time is float32((T - 1) / fps), a hair below
  // (T - 1) / fps, where a repeating action would wrap round to the first frame.
  mixer.clipAction(gltf.animations[0]).setLoop(THREE.LoopOnce).play().clampWhenFinished = true;

  const info = {
    three: THREE.REVISION, actors, fps, width, height,
    camera: { name: camera.name, type: camera.type, fov: camera.fov, gltfAspect: gltf.parser.json.cameras[0].perspective.aspectRatio },
    extensionsUsed: gltf.parser.json.extensionsUsed || [],
    extensionsLoaded: Object.keys(gltf.parser.extensions),
    animation: { name: gltf.animations[0].name, duration: gltf.animations[0].duration, tracks: gltf.animations[0].tracks.length,
                 cameraTracks: gltf.animations[0].tracks.map((t) => t.name).filter((n) => n.startsWith(camera.name + '.')) },
  };
  await post('/info', info);

  for (const t of frames) {
    mixer.setTime(t / fps);
    scene.updateMatrixWorld(true);
    renderer.render(scene, camera);
    const png = renderer.domElement.toDataURL('image/png');
    const worldPosition = camera.getWorldPosition(new THREE.Vector3()).toArray();
    await post('/frame', { t, png, cameraWorldPosition: worldPosition, fov: camera.fov });
  }
  await post('/done', {});
}

main().catch((e) => post('/error', String(e && e.stack || e)));
