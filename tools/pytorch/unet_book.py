"""The book's segmentation model, exactly as in dlwpt-code (PyTorch).

This is a faithful transcription of `UNetWrapper` (dlwpt-code p2ch13/model.py)
and `UNet`/`UNetConvBlock`/`UNetUpBlock` (dlwpt-code util/unet.py, itself from
jvanvugt/pytorch-unet, MIT licence), so that ctseg's parity fixtures and
checkpoint checks run the very network the book trained. ctseg uses it with
the book's configuration:

    UNetWrapper(in_channels=7, n_classes=1, depth=3, wf=4, padding=True,
                batch_norm=True, up_mode='upconv')

(see `book_model()`). Only the model is copied: the book's logging setup and
augmentation module are left out. Note that one commit of dlwpt-code's
util/unet.py has LeakyReLU in the conv block; the version the book's text and
ctseg's SPEC describe (and this file) uses ReLU.

Import it from another script with
    sys.path.insert(0, os.path.dirname(__file__)); from unet_book import UNetWrapper
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

# The configuration of the book's published checkpoint (SPEC, Model).
BOOK_KWARGS = dict(in_channels=7, n_classes=1, depth=3, wf=4, padding=True,
                   batch_norm=True, up_mode='upconv')


class UNet(nn.Module):
    """U-Net of Ronneberger et al. 2015 as in jvanvugt/pytorch-unet."""

    def __init__(self, in_channels=1, n_classes=2, depth=5, wf=6, padding=False,
                 batch_norm=False, up_mode='upconv'):
        super(UNet, self).__init__()
        assert up_mode in ('upconv', 'upsample')
        self.padding = padding
        self.depth = depth
        prev_channels = in_channels
        self.down_path = nn.ModuleList()
        for i in range(depth):
            self.down_path.append(UNetConvBlock(prev_channels, 2**(wf+i),
                                                padding, batch_norm))
            prev_channels = 2**(wf+i)

        self.up_path = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.up_path.append(UNetUpBlock(prev_channels, 2**(wf+i), up_mode,
                                            padding, batch_norm))
            prev_channels = 2**(wf+i)

        self.last = nn.Conv2d(prev_channels, n_classes, kernel_size=1)

    def forward(self, x):
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path)-1:
                blocks.append(x)
                # Average pooling, not max: as in the book.
                x = F.avg_pool2d(x, 2)

        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i-1])

        return self.last(x)


class UNetConvBlock(nn.Module):
    """Conv3x3 -> ReLU -> BN -> Conv3x3 -> ReLU -> BN (BN after the ReLU)."""

    def __init__(self, in_size, out_size, padding, batch_norm):
        super(UNetConvBlock, self).__init__()
        block = []

        block.append(nn.Conv2d(in_size, out_size, kernel_size=3,
                               padding=int(padding)))
        block.append(nn.ReLU())
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))

        block.append(nn.Conv2d(out_size, out_size, kernel_size=3,
                               padding=int(padding)))
        block.append(nn.ReLU())
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))

        self.block = nn.Sequential(*block)

    def forward(self, x):
        out = self.block(x)
        return out


class UNetUpBlock(nn.Module):
    """Upsample, centre-crop the skip, concatenate [up, skip], conv block."""

    def __init__(self, in_size, out_size, up_mode, padding, batch_norm):
        super(UNetUpBlock, self).__init__()
        if up_mode == 'upconv':
            self.up = nn.ConvTranspose2d(in_size, out_size, kernel_size=2,
                                         stride=2)
        elif up_mode == 'upsample':
            self.up = nn.Sequential(nn.Upsample(mode='bilinear', scale_factor=2),
                                    nn.Conv2d(in_size, out_size, kernel_size=1))

        self.conv_block = UNetConvBlock(in_size, out_size, padding, batch_norm)

    def center_crop(self, layer, target_size):
        _, _, layer_height, layer_width = layer.size()
        diff_y = (layer_height - target_size[0]) // 2
        diff_x = (layer_width - target_size[1]) // 2
        return layer[:, :, diff_y:(diff_y + target_size[0]), diff_x:(diff_x + target_size[1])]

    def forward(self, x, bridge):
        up = self.up(x)
        crop1 = self.center_crop(bridge, up.shape[2:])
        out = torch.cat([up, crop1], 1)
        out = self.conv_block(out)

        return out


class UNetWrapper(nn.Module):
    """Input BatchNorm -> UNet -> sigmoid (dlwpt-code p2ch13/model.py)."""

    def __init__(self, **kwargs):
        super().__init__()

        self.input_batchnorm = nn.BatchNorm2d(kwargs['in_channels'])
        self.unet = UNet(**kwargs)
        self.final = nn.Sigmoid()

        self._init_weights()

    def _init_weights(self):
        init_set = {
            nn.Conv2d,
            nn.Conv3d,
            nn.ConvTranspose2d,
            nn.ConvTranspose3d,
            nn.Linear,
        }
        for m in self.modules():
            if type(m) in init_set:
                nn.init.kaiming_normal_(m.weight.data, mode='fan_out', nonlinearity='relu', a=0)
                if m.bias is not None:
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight.data)
                    bound = 1 / math.sqrt(fan_out)
                    # The book calls normal_(mean=-bound, std=bound), kept as is.
                    nn.init.normal_(m.bias, -bound, bound)

    def forward(self, input_batch):
        bn_output = self.input_batchnorm(input_batch)
        un_output = self.unet(bn_output)
        fn_output = self.final(un_output)

        return fn_output


def book_model():
    """A freshly initialised UNetWrapper in the book's configuration."""
    return UNetWrapper(**BOOK_KWARGS)


def load_book_checkpoint(path):
    """The book's published checkpoint (a legacy torch.save dict whose
    `model_state` is the state_dict) loaded into a UNetWrapper, eval mode."""
    state = torch.load(path, map_location='cpu')
    model = book_model()
    model.load_state_dict(state['model_state'], strict=True)
    model.eval()
    return model, state


if __name__ == '__main__':
    m = book_model()
    n = sum(p.numel() for p in m.parameters() if p.requires_grad)
    print('UNetWrapper trainable parameters:', n)
    for k, v in m.state_dict().items():
        print(k, tuple(v.shape), v.dtype)
